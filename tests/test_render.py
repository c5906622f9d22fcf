"""Offline render: one file per object, stable bytes, no secret on disk, a useful summary."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleet import cli
from fleet.program import conventions as c
from fleet.tools.offline import mock, render
from fleet.tools.offline.manifests import ObjectRef
from tests.helpers import (
    APPS_TOKEN,
    ENTERPRISE_TOKEN,
    PLATFORM_TOKEN,
    ROOT,
    hub_dir,
    token_config,
)

ENTERPRISE = {
    "d1-fleet:enterpriseToken": ENTERPRISE_TOKEN,
    "d1-fleet:enterpriseTokenExpires": token_config()["d1-fleet:appsTokenExpires"],
}
TOKENS = (PLATFORM_TOKEN, APPS_TOKEN, ENTERPRISE_TOKEN)


@pytest.fixture(scope="module")
def staging_render() -> render.Render:
    return render.render_stack(ROOT, "staging", {**token_config(), **ENTERPRISE})


@pytest.fixture(scope="module")
def staging_out(staging_render: render.Render, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("render") / "staging"
    render.write(staging_render, out)
    return out


@pytest.fixture(scope="module")
def prod_render() -> render.Render:
    return render.render_stack(ROOT, "prod-eu", token_config())


def written(out: Path) -> dict[str, str]:
    return {p.relative_to(out).as_posix(): p.read_text() for p in out.rglob("*") if p.is_file()}


def test_render_writes_one_file_per_kubernetes_object(
    staging_out: Path, staging: mock.Recording
) -> None:
    files = sorted(p.name for p in (staging_out / render.MANIFESTS_DIR).iterdir())
    expected = sorted(
        ObjectRef.of(r.inputs).filename
        for r in staging.kubernetes_objects()
        if "apiVersion" in r.inputs
    )
    # The enterprise secret is extra: that render also configured an enterprise token.
    assert files == sorted([*expected, "secret-flux-system-flux-enterprise-auth.yaml"])
    assert {"namespace-_cluster-flux-system.yaml", "fluxinstance-flux-system-flux.yaml"} <= set(
        files
    )
    assert sorted(written(staging_out)) == sorted(
        [*(f"kubernetes/{f}" for f in files), "summary.yaml"]
    )


def test_render_files_hold_the_declared_objects(
    staging_out: Path, staging_render: render.Render
) -> None:
    for o in staging_render.objects:
        document = yaml.safe_load((staging_out / "kubernetes" / o.ref.filename).read_text())
        assert document == o.manifest, o.ref.id
        assert (document["kind"], document["metadata"]["name"]) == (o.ref.kind, o.ref.name)


def test_render_is_stable(staging_out: Path, staging_render: render.Render) -> None:
    again = render.render_stack(ROOT, "staging", {**token_config(), **ENTERPRISE})
    assert again.files() == staging_render.files()
    assert written(staging_out) == staging_render.files()
    refs = [o.ref for o in staging_render.objects]
    assert refs == sorted(refs)


def test_render_never_writes_a_secret(staging_out: Path) -> None:
    auth = base64.b64encode(f"flux:{ENTERPRISE_TOKEN}".encode()).decode()
    for path, text in written(staging_out).items():
        for secret in (*TOKENS, auth):
            assert secret not in text, path


def test_render_keeps_secret_keys_with_a_placeholder(staging_out: Path) -> None:
    def load(name: str) -> dict[str, Any]:
        loaded: dict[str, Any] = yaml.safe_load((staging_out / "kubernetes" / name).read_text())
        return loaded

    platform = load("secret-flux-system-flux-system.yaml")
    assert platform["stringData"] == dict.fromkeys(
        ("password", "token", "username"), render.SECRET_PLACEHOLDER
    )
    registry = load("secret-flux-system-flux-enterprise-auth.yaml")
    assert registry["stringData"] == {".dockerconfigjson": render.SECRET_PLACEHOLDER}
    assert registry["type"] == "kubernetes.io/dockerconfigjson"


def test_render_summary_lists_the_helm_release(staging_render: render.Render) -> None:
    (release,) = staging_render.summary["helmReleases"]
    version = mock.stack_config(ROOT, "staging")["d1-fleet:operatorChartVersion"]
    assert (release["chart"], release["version"], release["namespace"]) == (
        c.OPERATOR_CHART,
        version,
        "flux-system",
    )
    assert release["values"]["multitenancy"]["enabled"] is True


def test_render_summary_lists_github_resources(prod_render: render.Render) -> None:
    github = prod_render.summary["github"]
    types = {g["type"] for g in github}
    assert "github:index/team:Team" in types
    assert "github:index/teamRepository:TeamRepository" in types
    assert all(g["type"].startswith("github:") for g in github)
    team = next(g for g in github if g["type"] == "github:index/team:Team")
    assert team["inputs"]["name"] == "flux-bot"


def test_render_summary_says_it_is_not_a_preview(staging_render: render.Render) -> None:
    assert "Not a pulumi preview" in staging_render.summary["note"]
    assert staging_render.summary["stack"] == "staging"


def test_render_without_credentials_uses_placeholder_tokens(tmp_path: Path) -> None:
    result = render.render_stack(ROOT, "staging", today=date(2030, 1, 1))
    placeheld = result.summary["placeholderConfig"]
    assert placeheld == [
        "d1-fleet:appsPushToken",
        "d1-fleet:appsPushTokenExpires",
        "d1-fleet:appsToken",
        "d1-fleet:appsTokenExpires",
        "d1-fleet:platformToken",
        "d1-fleet:platformTokenExpires",
    ]
    config, _ = render.offline_config(ROOT, "staging", today=date(2030, 1, 1))
    assert config["d1-fleet:appsTokenExpires"] == "2031-02-05"
    render.write(result, tmp_path)
    for text in written(tmp_path).values():
        assert config["d1-fleet:appsToken"] not in text
        assert config["d1-fleet:platformToken"] not in text


def test_render_a_new_stack_file_in_another_project_folder(tmp_path: Path) -> None:
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(ROOT / name, tmp_path / name)
    stack = {
        "config": {
            "d1-fleet:environment": "staging",
            "d1-fleet:clusterName": "preview-7",
            "d1-fleet:clusterDomain": "preview7.example.com",
            "d1-fleet:gitBranch": "preview-7",
            "d1-fleet:kubeContext": "kind-preview-7",
            "d1-fleet:githubOwner": "acme",
            "d1-fleet:operatorChartVersion": "0.58.1",
            "d1-fleet:tenants": ["shop"],
            "d1-fleet:enterpriseToken": {"secure": "v1:AAAA"},
            "d1-fleet:enterpriseTokenExpires": "2999-01-01",
        }
    }
    (tmp_path / "Pulumi.preview-7.yaml").write_text(yaml.safe_dump(stack))
    result = render.render_stack(tmp_path, "preview-7")
    by_id = {o.ref.id: o for o in result.objects}
    runtime = by_id["ConfigMap/flux-system/flux-runtime-info"].manifest
    assert runtime["data"]["CLUSTER_NAME"] == "preview-7"
    assert "Namespace/shop" in by_id
    # The stack keeps the enterprise token as a secret: a placeholder stands in, date kept.
    assert "d1-fleet:enterpriseToken" in result.summary["placeholderConfig"]
    assert "d1-fleet:enterpriseTokenExpires" not in result.summary["placeholderConfig"]
    assert "Secret/flux-system/flux-enterprise-auth" in by_id


def test_render_unknown_stack_names_the_known_ones() -> None:
    with pytest.raises(render.RenderError, match=r"stacks in .*: prod-eu, staging"):
        render.render_stack(ROOT, "prod-us")


def test_render_invalid_config_is_an_error(tmp_path: Path) -> None:
    for name in ("__main__.py", "Pulumi.yaml"):
        shutil.copy(ROOT / name, tmp_path / name)
    staging = (ROOT / "Pulumi.staging.yaml").read_text()
    (tmp_path / "Pulumi.bad.yaml").write_text(
        staging.replace("d1-fleet:environment: staging", "d1-fleet:environment: qa")
    )
    with pytest.raises(render.RenderError, match=r"d1-fleet:environment: 'qa' is invalid"):
        render.render_stack(tmp_path, "bad")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "  d1-fleet:multitenant: yes\n",
            "Stack 'bad' with configuration key 'd1-fleet:multitenant' must be of type 'boolean'",
        ),
        (
            "  d1-fleet:platformToken: github_pat_plain\n",
            # The program's own refusal, as `pulumi preview` shows it.
            "d1-fleet:platformToken: set in plain text in the stack's config; a secret never "
            "goes into a stack file: remove it, then run `pulumi config set --secret "
            "platformToken --stack bad`",
        ),
    ],
)
def test_render_refuses_what_the_pulumi_cli_refuses(
    tmp_path: Path, line: str, message: str
) -> None:
    for name in ("__main__.py", "Pulumi.yaml"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "Pulumi.bad.yaml").write_text((ROOT / "Pulumi.staging.yaml").read_text() + line)
    with pytest.raises(render.RenderError) as caught:
        render.render_stack(tmp_path, "bad")
    assert message in str(caught.value)
    assert "github_pat_plain" not in str(caught.value)


def test_render_write_replaces_an_earlier_render(
    staging_render: render.Render, prod_render: render.Render, tmp_path: Path
) -> None:
    render.write(staging_render, tmp_path)
    render.write(prod_render, tmp_path)
    assert written(tmp_path) == prod_render.files()


def test_render_write_refuses_a_folder_that_holds_other_files(
    staging_render: render.Render, tmp_path: Path
) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(render.RenderError, match="not empty"):
        render.write(staging_render, tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_render_refuses_a_secret_the_program_leaks_in_plain_text() -> None:
    recording = mock.Recording()
    recording.resources.append(
        mock.Registration(
            type="kubernetes:core/v1:ConfigMap",
            name="leak",
            urn="urn:leak",
            inputs={
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "leak", "namespace": "default"},
                "data": {"token": PLATFORM_TOKEN},
            },
            parent="",
            dependencies=(),
            protect=False,
            provider="",
            custom=True,
        )
    )
    result = render.from_recording(recording, stack="x")
    with pytest.raises(render.RenderError, match=r"configmap-default-leak\.yaml"):
        render.refuse_leaks(result, [PLATFORM_TOKEN])


def test_render_mask_replaces_every_secret_leaf() -> None:
    secret = {mock.SECRET_SIG: "1b47061264138c4ac30d75fd1eb44270", "value": {"a": ["x", 1]}}
    assert render.mask({"plain": "p", "s": secret}) == {
        "plain": "p",
        "s": {"a": [render.SECRET_PLACEHOLDER, render.SECRET_PLACEHOLDER]},
    }
    assert render.plain({"s": secret}) == {"s": {"a": ["x", 1]}}


def test_render_cli_writes_the_stack(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["render", "prod-eu", "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "summary.yaml").is_file()
    assert "not a preview" in capsys.readouterr().out


def test_render_runs_as_a_module_without_credentials(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB", "PULUMI"))}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "-m", "fleet", "render", "staging", "--out", str(tmp_path / "r")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "r" / "kubernetes" / "fluxinstance-flux-system-flux.yaml").is_file()


def test_render_cli_unknown_stack_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["render", "nope"]) == cli.ExitCode.USAGE
    assert "no stack file" in capsys.readouterr().err


def test_render_puts_each_object_under_the_cluster_it_lands_on(tmp_path: Path) -> None:
    # A hub's spoke objects go through each spoke's provider: kubernetes/spokes/<spoke>/.
    result = render.render_stack(hub_dir(tmp_path), "hub", token_config())
    summary = {entry["resource"]: entry for entry in result.summary["kubernetes"]}
    spokes = set()
    for o in result.objects:
        entry = summary[o.resource]
        if "-access-" in o.resource:
            spoke = o.resource.split("cluster-spoke-", 1)[1].split("-access-", 1)[0]
            spokes.add(spoke)
            assert entry["cluster"] == spoke, o.resource
            assert entry["file"] == f"spokes/{spoke}/{o.ref.filename}"
        else:
            assert (entry["cluster"], entry["file"]) == ("hub", o.ref.filename), o.resource
    assert spokes == {"staging", "production"}
    # The same namespace name on the hub and on a spoke renders to two files.
    assert {
        "kubernetes/namespace-_cluster-staging.yaml",
        "kubernetes/spokes/staging/namespace-_cluster-staging.yaml",
    } <= set(result.files())


def test_render_a_cluster_stack_lands_on_its_own_cluster_only(
    staging_render: render.Render,
) -> None:
    assert {entry["cluster"] for entry in staging_render.summary["kubernetes"]} == {"staging-1"}
    assert not [path for path in staging_render.files() if "/spokes/" in path]
