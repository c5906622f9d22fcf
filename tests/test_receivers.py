"""Webhook receivers: Receivers, tokens and GitHub webhooks per repository and namespace."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleet.program import receiver_plan
from fleet.program.config import errors, fleet, parse
from fleet.tools.offline import mock
from fleet.tools.offline.conformance import Schemas
from fleet.tools.offline.mock import Recording, Registration, unwrap_secret
from tests.helpers import ROOT, VALID, stack_run

RECEIVER = "kubernetes:notification.toolkit.fluxcd.io/v1:Receiver"
SECRET = "kubernetes:core/v1:Secret"
WEBHOOK = "github:index/repositoryWebhook:RepositoryWebhook"
PASSWORD = "random:index/randomPassword:RandomPassword"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
OWNER = "controlplaneio-fluxcd"


@pytest.fixture(scope="module")
def staging_receivers() -> Recording:
    return stack_run("staging", {"receivers": "true"})


def secret_value(value: Any) -> str:
    plain, secret = unwrap_secret(value)
    assert secret, "value is not a Pulumi secret"
    assert isinstance(plain, str)
    return plain


def token_of(recording: Recording, namespace: str, name: str) -> str:
    secret = recording.get(SECRET, f"cluster-receivers-{namespace}-{name}-secret")
    data, whole = unwrap_secret(secret.inputs["stringData"])
    return str(data["token"]) if whole else secret_value(data["token"])


def test_receiver_path_is_flux_digest_of_token_name_and_namespace() -> None:
    # notification-controller api/v1 Receiver.GetWebhookPath: sha256(token + name + namespace).
    expected = "/hook/" + hashlib.sha256(b"s3cretflux-appsbackend").hexdigest()
    assert receiver_plan.webhook_path("s3cret", "flux-apps", "backend") == expected
    assert receiver_plan.webhook_path("s3cret", "backend", "flux-apps") != expected


def test_receivers_one_per_repository_and_namespace_on_staging(
    staging_receivers: Recording,
) -> None:
    found = {
        (r.inputs["metadata"]["namespace"], r.inputs["metadata"]["name"])
        for r in staging_receivers.of_type(RECEIVER)
    }
    assert found == {
        ("flux-system", "flux-infra"),
        ("backend", "flux-apps"),
        ("frontend", "flux-apps"),
        ("apps-update", "flux-apps"),
    }
    hooks = {r.name: r.inputs["repository"] for r in staging_receivers.of_type(WEBHOOK)}
    assert hooks == {
        "cluster-receivers-flux-system-flux-infra-webhook": "d1-infra",
        "cluster-receivers-backend-flux-apps-webhook": "d1-apps",
        "cluster-receivers-frontend-flux-apps-webhook": "d1-apps",
        "cluster-receivers-apps-update-flux-apps-webhook": "d1-apps",
    }


def test_receiver_spec_triggers_the_source_of_its_own_namespace(
    staging_receivers: Recording,
) -> None:
    receiver = staging_receivers.get(RECEIVER, "cluster-receivers-backend-flux-apps-receiver")
    assert receiver.inputs["apiVersion"] == "notification.toolkit.fluxcd.io/v1"
    assert receiver.inputs["spec"] == {
        "type": "github",
        "events": ["ping", "push"],
        "resources": [
            {
                "apiVersion": "source.toolkit.fluxcd.io/v1",
                "kind": "GitRepository",
                "name": "flux-apps",
            }
        ],
        "secretRef": {"name": "flux-apps-webhook-token"},
    }
    secret = staging_receivers.get(SECRET, "cluster-receivers-backend-flux-apps-secret")
    assert secret.inputs["metadata"] == {"name": "flux-apps-webhook-token", "namespace": "backend"}
    assert secret.urn in receiver.dependencies


def test_receiver_webhook_shares_the_secret_token_and_calls_the_computed_url(
    staging_receivers: Recording,
) -> None:
    token = token_of(staging_receivers, "backend", "flux-apps")
    hook = staging_receivers.get(WEBHOOK, "cluster-receivers-backend-flux-apps-webhook")
    assert hook.inputs["events"] == ["push"]
    assert hook.inputs["active"] is True
    config, whole = unwrap_secret(hook.inputs["configuration"])
    assert config["contentType"] == "json"
    assert config["insecureSsl"] is False
    reveal = (lambda v: v) if whole else secret_value
    assert reveal(config["secret"]) == token
    url = reveal(config["url"])
    digest = hashlib.sha256(f"{token}flux-appsbackend".encode()).hexdigest()
    assert url == f"https://flux-webhook.preview1.example.com/hook/{digest}"
    receiver = staging_receivers.get(RECEIVER, "cluster-receivers-backend-flux-apps-receiver")
    ingress = staging_receivers.get(INGRESS, "cluster-receivers-ingress")
    assert {receiver.urn, ingress.urn} <= set(hook.dependencies)


def test_receiver_tokens_are_distinct_and_follow_config(run_stack: Any) -> None:
    recording = run_stack(
        "staging",
        {"receivers": "true", "receiverTokenLength": "64", "receiverTokenSpecial": "-_"},
    )
    passwords = recording.of_type(PASSWORD)
    assert len(passwords) == 4
    for password in passwords:
        assert password.inputs["length"] == 64, password.name
        assert password.inputs["special"] is True, password.name
        assert password.inputs["overrideSpecial"] == "-_", password.name
    tokens = {token_of(recording, ns, "flux-apps") for ns in ("backend", "frontend")}
    assert len(tokens) == 2
    alphanumeric = stack_run("staging", {"receivers": "true"}).of_type(PASSWORD)[0]
    assert alphanumeric.inputs["special"] is False
    assert "overrideSpecial" not in alphanumeric.inputs


def test_receiver_urls_are_a_secret_stack_output(staging_receivers: Recording) -> None:
    assert "receiverUrls" in staging_receivers.secret_outputs
    urls = staging_receivers.outputs["receiverUrls"]
    token = token_of(staging_receivers, "flux-system", "flux-infra")
    digest = hashlib.sha256(f"{token}flux-infraflux-system".encode()).hexdigest()
    assert urls[f"{OWNER}/d1-infra flux-system/flux-infra"] == (
        f"https://flux-webhook.preview1.example.com/hook/{digest}"
    )
    assert len(urls) == 4


def test_receivers_are_off_by_default(prod_eu: Recording, staging: Recording) -> None:
    for recording in (prod_eu, staging):
        assert not recording.of_type(RECEIVER)
        assert not recording.of_type(WEBHOOK)
        assert not recording.of_type(PASSWORD)
        assert "receiverUrls" not in recording.outputs
    # Staging owns no GitHub objects, so it loads no GitHub provider until receivers are on.
    assert not staging.of_type("pulumi:providers:github")


def test_receivers_give_a_non_owner_stack_its_github_provider(
    staging_receivers: Recording,
) -> None:
    (provider,) = staging_receivers.of_type("pulumi:providers:github")
    assert provider.inputs["owner"] == OWNER
    for hook in staging_receivers.of_type(WEBHOOK):
        assert hook.provider.startswith(provider.urn), hook.name


def test_receiver_fleet_repository_only_when_the_instance_syncs_from_it(run_stack: Any) -> None:
    recording = run_stack(
        "staging",
        {
            "receivers": "true",
            "syncKind": "GitRepository",
            "syncUrl": f"https://github.com/{OWNER}/d1-fleet",
            "syncRef": "refs/heads/main",
            "syncPath": "clusters/staging",
        },
    )
    fleet = recording.get(RECEIVER, "cluster-receivers-flux-system-flux-system-receiver")
    assert fleet.inputs["spec"]["resources"][0]["name"] == "flux-system"
    hook = recording.get(WEBHOOK, "cluster-receivers-flux-system-flux-system-webhook")
    assert hook.inputs["repository"] == "d1-fleet"


def test_receiver_ingress_routes_the_host_to_the_webhook_receiver_service(
    run_stack: Any,
) -> None:
    recording = run_stack(
        "staging",
        {
            "receivers": "true",
            "receiverHost": "hooks.staging.example.org",
            "receiverIngressClass": "nginx",
            "receiverTlsSecret": "hooks-tls",
        },
    )
    ingress = recording.get(INGRESS, "cluster-receivers-ingress")
    assert ingress.inputs["metadata"] == {"name": "webhook-receiver", "namespace": "flux-system"}
    assert ingress.inputs["spec"] == {
        "ingressClassName": "nginx",
        "rules": [
            {
                "host": "hooks.staging.example.org",
                "http": {
                    "paths": [
                        {
                            "path": "/hook/",
                            "pathType": "Prefix",
                            "backend": {
                                "service": {"name": "webhook-receiver", "port": {"number": 80}}
                            },
                        }
                    ]
                },
            }
        ],
        "tls": [{"hosts": ["hooks.staging.example.org"], "secretName": "hooks-tls"}],
    }
    urls = recording.outputs["receiverUrls"]
    assert all(u.startswith("https://hooks.staging.example.org/hook/") for u in urls.values())
    without = run_stack("staging", {"receivers": "true", "receiverIngress": "false"})
    assert not without.of_type(INGRESS)
    assert len(without.of_type(WEBHOOK)) == 4


def test_receiver_objects_conform_to_the_crd_and_kubernetes_schemas(
    staging_receivers: Recording,
) -> None:
    schemas = Schemas.load()
    checked = 0
    for registration in staging_receivers.kubernetes_objects():
        if not registration.name.startswith("cluster-receivers-"):
            continue
        manifest = _manifest(registration)
        assert [str(p) for p in schemas.check_object(manifest, registration.name)] == []
        checked += 1
    assert checked == 9  # 4 Receivers, 4 Secrets, 1 Ingress


def _manifest(registration: Registration) -> dict[str, Any]:
    def plain(value: Any) -> Any:
        value, _ = unwrap_secret(value)
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    manifest = plain(registration.inputs)
    group, _, kind = registration.type.removeprefix("kubernetes:").rpartition(":")
    manifest.setdefault("apiVersion", group.replace("core/", ""))
    manifest.setdefault("kind", kind)
    return dict(manifest)


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        ("receiverHost", "https://hooks.example.com", "DNS-1123 subdomain"),
        ("receiverHost", "10.0.0.1", "no IP address"),
        ("receiverHost", "localhost", "at least two labels"),
        ("receiverTokenLength", "16", "a whole number of at least 24"),
        ("receiverTokenSpecial", "-a", "ASCII punctuation"),
        ("receiverTokenSpecial", "--", "distinct"),
        ("receiverIngressClass", "Nginx", "DNS-1123 subdomain"),
    ],
)
def test_receiver_settings_reject_bad_values(key: str, value: str, allowed: str) -> None:
    with pytest.raises(errors.ConfigError) as caught:
        parse.parse({**VALID, key: value})
    (problem,) = caught.value.problems
    assert problem.startswith(f"d1-fleet:{key}: {value!r} is invalid"), problem
    assert allowed in problem, problem


def test_receiver_settings_need_the_notification_controller() -> None:
    with pytest.raises(errors.ConfigError) as caught:
        parse.parse(
            {
                **VALID,
                "receivers": "true",
                "fluxComponents": ["source-controller", "kustomize-controller"],
            }
        )
    assert caught.value.problems == [
        "d1-fleet:fluxComponents: receivers need the notification-controller component"
    ]


def test_receiver_host_defaults_to_the_cluster_domain() -> None:
    assert parse.parse(VALID).receiver_public_host == "flux-webhook.preview1.example.com"
    custom = parse.parse({**VALID, "receivers": "true", "receiverHost": "hooks.example.org"})
    assert custom.receiver_public_host == "hooks.example.org"


def tenants(count: int, prefix: str = "team") -> list[str]:
    return [f"{prefix}-{i}" for i in range(count)]


def test_fleet_webhook_count_adds_every_stack_with_receivers() -> None:
    current = parse.parse({**VALID, "receivers": "true", "tenants": tenants(10)})
    others: dict[str, dict[str, Any]] = {
        # 9 tenants + apps-update: with this stack's 10, d1-apps gets exactly 20.
        "b": {
            "receivers": True,
            "githubOwner": "acme",
            "clusterDomain": "b.example.com",
            "tenants": tenants(9),
            "imageAutomation": True,
        },
        # Without receivers a stack adds nothing, whatever its tenants.
        "c": {"githubOwner": "acme", "clusterDomain": "c.example.com", "tenants": tenants(30)},
    }
    assert fleet.problems("a", current, others) == []
    others["b"]["tenants"] = tenants(10)
    assert fleet.problems("a", current, others) == [
        "d1-fleet:receivers: acme/d1-apps would get 21 webhooks from this fleet (a: 10, b: 11); "
        "GitHub accepts at most 20 per repository and event: enable receivers on fewer clusters "
        "or tenants"
    ]


def test_fleet_check_refuses_a_receiver_host_shared_by_two_stacks() -> None:
    current = parse.parse({**VALID, "receivers": "true", "receiverHost": "hooks.example.com"})
    others: dict[str, dict[str, Any]] = {
        "b": {
            "receivers": "true",
            "githubOwner": "acme",
            "clusterDomain": "x.example.com",
            "receiverHost": "hooks.example.com",
        }
    }
    (problem,) = fleet.problems("a", current, others)
    assert problem.startswith(
        "d1-fleet:receiverHost: 'hooks.example.com' is also the receiver host"
    )
    assert "stack(s) b" in problem


def test_fleet_check_reports_an_unreadable_stack_file() -> None:
    current = parse.parse({**VALID, "receivers": "true"})
    problems = fleet.problems("a", current, {"b": {"receivers": "maybe"}})
    assert problems == [
        "d1-fleet:receivers: cannot count the webhooks of stack 'b': its stack file has invalid values"
    ]


def test_fleet_check_reports_a_stack_file_without_a_required_key() -> None:
    """A sibling stack file that lacks githubOwner (half written, or never finished) is reported,
    not a traceback from reading an unset field."""
    current = parse.parse({**VALID, "receivers": "true"})
    problems = fleet.problems("a", current, {"b": {"receivers": "true", "clusterDomain": "b.io"}})
    assert problems == [
        "d1-fleet:receivers: cannot count the webhooks of stack 'b': its stack file has invalid values"
    ]


def test_fleet_check_builds_no_validator_per_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    current = parse.parse({**VALID, "receivers": "true"})
    member = {"receivers": False, "githubOwner": "acme", "tenants": tenants(2)}
    others = {f"s{i}": {**member, "clusterDomain": f"s{i}.example.com"} for i in range(50)}
    assert fleet.problems("a", current, others) == []  # the field validators exist from here on

    def refuse(*_: Any, **__: Any) -> None:
        raise AssertionError("a validator was built for another stack's field")

    monkeypatch.setattr(parse, "TypeAdapter", refuse)
    assert fleet.problems("a", current, others) == []


def test_fleet_webhook_limit_fails_the_program_from_the_stack_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(ROOT / "__main__.py", tmp_path / "__main__.py")
    staging = yaml.safe_load((ROOT / "Pulumi.staging.yaml").read_text())
    staging["config"]["d1-fleet:receivers"] = True
    staging["config"]["d1-fleet:tenants"] = tenants(12)
    (tmp_path / "Pulumi.staging.yaml").write_text(yaml.safe_dump(staging))
    prod = yaml.safe_load((ROOT / "Pulumi.prod-eu.yaml").read_text())
    prod["config"]["d1-fleet:receivers"] = True
    prod["config"]["d1-fleet:tenants"] = tenants(8)
    (tmp_path / "Pulumi.prod-eu.yaml").write_text(yaml.safe_dump(prod))
    monkeypatch.chdir(tmp_path)

    with pytest.raises(mock.ProgramError) as caught:
        stack_run("prod-eu", project_dir=tmp_path)
    message = str(caught.value)
    assert "controlplaneio-fluxcd/d1-apps would get 21 webhooks" in message
    assert "prod-eu: 8, staging: 13" in message
    assert not caught.value.recording.resources

    prod["config"]["d1-fleet:tenants"] = tenants(7)
    (tmp_path / "Pulumi.prod-eu.yaml").write_text(yaml.safe_dump(prod))
    assert len(stack_run("prod-eu", project_dir=tmp_path).of_type(WEBHOOK)) == 8
