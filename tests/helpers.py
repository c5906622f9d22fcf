"""Shared test helpers: the project folder, valid secret config and runners for the mock runtime."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

from fleet.program.config import keys, private_key, sources
from fleet.program.config.errors import ConfigError
from fleet.program.config.model import Settings
from fleet.program.config.parse import parse, read
from fleet.tools.offline import mock

ROOT = Path(__file__).resolve().parent.parent

PLATFORM_TOKEN = "github_pat_" + "P" * 82
APPS_TOKEN = "github_pat_" + "A" * 82
APPS_PUSH_TOKEN = "github_pat_" + "W" * 82
ENTERPRISE_TOKEN = "ghp_" + "E" * 36
SECRET_KEYS = tuple(f"d1-fleet:{key}" for key in sorted(keys.SECRET_KEYS))

RunStack = Callable[..., mock.Recording]


def token_config(days_left: int = 120) -> dict[str, str]:
    """Secret config an operator sets with `pulumi config set --secret`, valid for `days_left`."""
    expires = (date.today() + timedelta(days=days_left)).isoformat()
    return {
        "d1-fleet:platformToken": PLATFORM_TOKEN,
        "d1-fleet:platformTokenExpires": expires,
        "d1-fleet:appsToken": APPS_TOKEN,
        "d1-fleet:appsTokenExpires": expires,
    }


def push_token_for(config: Mapping[str, str]) -> dict[str, str]:
    """Image automation's push token (required with it) when `config` runs image automation and
    sets none, as secret config would give it; nothing otherwise."""
    if config.get("d1-fleet:imageAutomation") != "true" or config.get("d1-fleet:appsPushToken"):
        return {}
    expires = token_config()["d1-fleet:appsTokenExpires"]
    return {"d1-fleet:appsPushToken": APPS_PUSH_TOKEN, "d1-fleet:appsPushTokenExpires": expires}


def stack_run(
    stack_name: str,
    overrides: Mapping[str, str] | None = None,
    drop: tuple[str, ...] = (),
    project_dir: Path = ROOT,
    check_kube_access: bool = False,
) -> mock.Recording:
    """Run the real `__main__.py` with `Pulumi.<stack>.yaml`, valid tokens and `overrides`.

    The stack files name kube contexts this machine does not have, so the program's check that
    they exist is off unless `check_kube_access` asks for it.
    """
    config = {**mock.stack_config(project_dir, stack_name), **token_config()}
    config.update({f"d1-fleet:{k}" if ":" not in k else k: v for k, v in (overrides or {}).items()})
    # Image automation pushes with its own token (required with it), as a stack file sets it.
    if config.get("d1-fleet:imageAutomation") == "true" and not config.get(
        "d1-fleet:appsPushToken"
    ):
        config["d1-fleet:appsPushToken"] = APPS_PUSH_TOKEN
        config["d1-fleet:appsPushTokenExpires"] = token_config()["d1-fleet:appsTokenExpires"]
    for key in drop:
        config.pop(f"d1-fleet:{key}", None)
    return mock.run_main(
        project_dir,
        config=config,
        stack_name=stack_name,
        secret_keys=SECRET_KEYS,
        check_kube_access=check_kube_access,
    )


def config_problems(
    stack_name: str,
    overrides: Mapping[str, str] | None = None,
    drop: tuple[str, ...] = (),
    *,
    today: date | None = None,
) -> list[str]:
    """The problems the program lists for `Pulumi.<stack>.yaml` with valid tokens, `overrides`
    and `drop` as `stack_run` sets them (none: the configuration is accepted), checked on `today`.

    The configuration check alone, without a Pulumi run: fast enough to test every boundary.
    """
    config = {**mock.stack_config(ROOT, stack_name), **token_config()}
    config.update({f"d1-fleet:{k}" if ":" not in k else k: v for k, v in (overrides or {}).items()})
    config.update(push_token_for(config))
    for key in drop:
        config.pop(f"d1-fleet:{key}", None)
    short = {k.removeprefix("d1-fleet:"): v for k, v in config.items() if k.startswith("d1-fleet:")}
    try:
        parse(sources.from_environment(read(short.get, short), {}), today=today)
    except ConfigError as err:
        return err.problems
    return []


def run_component(build: Callable[[], object]) -> mock.Recording:
    """Declare one component under mocks and return its registrations."""
    return mock.run(build, config={}, stack_name="test")


# Raw values of a valid staging stack, as `parse` receives them.
VALID: dict[str, Any] = {
    "environment": "staging",
    "clusterName": "staging-1",
    "clusterDomain": "preview1.example.com",
    "gitBranch": "main",
    "kubeContext": "staging",
    "githubOwner": "acme",
    "platformToken": PLATFORM_TOKEN,
    "platformTokenExpires": "2030-01-01",
    "appsToken": APPS_TOKEN,
    "appsTokenExpires": "2030-01-01",
    "operatorChartVersion": "0.58.1",
}


# GitHub App mode.

APP_ID = 123456
INSTALLATION_ID = 7890123
# Keys with the structure of 2048-bit RSA keys (the program checks it); their factors are no
# primes, so they sign nothing.
APP_KEY = private_key.shaped(2**1024 + 1, 2**1024 + 3)
# The second App, which reads the applications repository (its key is what tenants hold).
APPS_APP_ID = 654321
APPS_INSTALLATION_ID = 4567890
APPS_APP_KEY = private_key.shaped(2**1024 + 5, 2**1024 + 7, pkcs8=True)
TOKEN_KEYS = ("platformToken", "platformTokenExpires", "appsToken", "appsTokenExpires")
# Every token a staging stack needs, exported the way CI exports them, far from expiry.
EXPORTED_TOKENS = {
    "FLEET_PLATFORM_TOKEN": "github_pat_" + "P" * 40,
    "FLEET_PLATFORM_TOKEN_EXPIRES": "2099-01-31",
    "FLEET_APPS_TOKEN": "github_pat_" + "A" * 40,
    "FLEET_APPS_TOKEN_EXPIRES": "2099-01-31",
    "FLEET_APPS_PUSH_TOKEN": "github_pat_" + "W" * 40,
    "FLEET_APPS_PUSH_TOKEN_EXPIRES": "2099-01-31",
}
SECRET = "kubernetes:core/v1:Secret"
GIT = "kubernetes:source.toolkit.fluxcd.io/v1:GitRepository"
INSTANCE = "kubernetes:fluxcd.controlplane.io/v1:FluxInstance"
RULESET = "github:index/repositoryRuleset:RepositoryRuleset"
INSTALLATION_REPO = "github:index/appInstallationRepository:AppInstallationRepository"


def app_config(key_age_days: int = 10, **changes: str) -> dict[str, str]:
    config = {
        "gitAuth": "githubApp",
        "githubAppId": str(APP_ID),
        "githubAppInstallationId": str(INSTALLATION_ID),
        "githubAppPrivateKey": APP_KEY,
        "githubAppKeyCreated": (date.today() - timedelta(days=key_age_days)).isoformat(),
        "githubAppsAppId": str(APPS_APP_ID),
        "githubAppsInstallationId": str(APPS_INSTALLATION_ID),
        "githubAppsPrivateKey": APPS_APP_KEY,
        "githubAppsKeyCreated": (date.today() - timedelta(days=key_age_days)).isoformat(),
    }
    config.update(changes)
    return {k: v for k, v in config.items() if v}


def app_run(
    stack: str,
    overrides: dict[str, str] | None = None,
    *,
    project_dir: Path = ROOT,
    **kwargs: Any,
) -> mock.Recording:
    overrides = overrides or {}
    # mergeTeams only serves branchProtection, which App mode refuses.
    unset = () if "mergeTeams" in overrides else ("mergeTeams",)
    return stack_run(
        stack,
        {**app_config(**kwargs), **overrides},
        drop=(*TOKEN_KEYS, *unset),
        project_dir=project_dir,
    )


def app_stack_file(stack: str, **changes: str) -> str:
    """`Pulumi.<stack>.yaml` as committed once the stack is switched to the App (plain values)."""
    values = {
        "gitAuth": "githubApp",
        "githubAppId": str(APP_ID),
        "githubAppInstallationId": str(INSTALLATION_ID),
        "githubAppKeyCreated": "2026-03-01",
        "githubAppsAppId": str(APPS_APP_ID),
        "githubAppsInstallationId": str(APPS_INSTALLATION_ID),
        "githubAppsKeyCreated": "2026-03-01",
        **changes,
    }
    lines = "".join(f"  d1-fleet:{k}: {v}\n" for k, v in values.items() if v)
    return (ROOT / f"Pulumi.{stack}.yaml").read_text() + lines


def fleet_dir(base: Path, files: dict[str, str]) -> Path:
    """A project folder whose stack files are the committed ones, with `files` replaced."""
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(ROOT / name, base / name)
    for stack in mock.known_stacks(ROOT):
        text = files.get(stack, (ROOT / f"Pulumi.{stack}.yaml").read_text())
        (base / f"Pulumi.{stack}.yaml").write_text(text)
    return base


def run_in(project: Path, stack: str, overrides: dict[str, str], **kwargs: Any) -> mock.Recording:
    """`app_run` in `project`, whose other stack files the program reads, as Pulumi runs it there."""
    return app_run(stack, overrides, project_dir=project, **kwargs)


def git_secrets(run: mock.Recording) -> list[mock.Registration]:
    """The Git secrets of the platform and apps credentials (flux-system, flux-apps and its
    copies); not the registry login, nor image automation's push token in apps-update."""
    return [
        r
        for r in run.of_type(SECRET)
        if r.inputs["metadata"]["name"] != "flux-enterprise-auth"
        and r.inputs["metadata"]["namespace"] != "apps-update"
    ]


def kubernetes_urns(run: mock.Recording) -> set[str]:
    return {r.urn for r in run.resources if not r.type.startswith(("github:", "fleet:github"))}


# Hub mode: the example hub stack (examples/hub), run as its own project folder.

HUB_EXAMPLE = ROOT / "examples" / "hub" / "Pulumi.hub.yaml"


def hub_dir(base: Path, rotated: date | None = None, beside: bool = False) -> Path:
    """A project folder holding the example hub stack, its spokes renewed on `rotated` (today).

    `beside`: the committed cluster stacks are there too, as when the hub joins the fleet.
    """
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(ROOT / name, base / name)
    day = (rotated or date.today()).isoformat()
    text = HUB_EXAMPLE.read_text()
    (base / "Pulumi.hub.yaml").write_text(text.replace("rotated=2026-12-01", f"rotated={day}"))
    if beside:
        for stack in mock.known_stacks(ROOT):
            shutil.copy(ROOT / f"Pulumi.{stack}.yaml", base / f"Pulumi.{stack}.yaml")
    return base


def hub_run(
    base: Path, overrides: Mapping[str, str] | None = None, **kwargs: Any
) -> mock.Recording:
    """Run the real `__main__.py` for the example hub stack in its own folder under `base`."""
    return stack_run("hub", overrides, project_dir=hub_dir(base, **kwargs))


def every_feature() -> dict[str, str]:
    """Overrides that turn on every optional feature a token-mode stack has."""
    return {
        "imageAutomation": "true",
        "tenantAdmissionPolicies": "true",
        "receivers": "true",
        "enterpriseToken": ENTERPRISE_TOKEN,
        "enterpriseTokenExpires": (date.today() + timedelta(days=120)).isoformat(),
        "syncKind": "GitRepository",
        "syncUrl": "https://github.com/controlplaneio-fluxcd/d1-fleet.git",
        "syncRef": "refs/heads/main",
        "syncPath": "clusters/prod-eu",
        "syncPullSecret": "flux-system",
    }


def stack_settings(stack: str, drop: tuple[str, ...] = (), **overrides: object) -> Settings:
    """Settings of a committed stack file with valid tokens, as `config.load.load` would build.

    `drop` removes keys (unqualified) after the overrides, as an App-mode stack drops the tokens.
    """
    document = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())
    raw: dict[str, object] = {
        key.split(":", 1)[1]: value
        if isinstance(value, list)
        else str(value).lower()
        if isinstance(value, bool)
        else str(value)
        for key, value in document["config"].items()
    }
    raw.update({k.split(":", 1)[1]: v for k, v in token_config().items()})
    raw.update(overrides)
    for key in drop:
        raw.pop(key, None)
    qualified = {f"d1-fleet:{k}": str(v) for k, v in raw.items()}
    raw.update({k.split(":", 1)[1]: v for k, v in push_token_for(qualified).items()})
    return parse(raw)


def doc(page: str) -> str:
    """A page of docs/, where the README's reference and how-to sections live."""
    return (ROOT / "docs" / page).read_text()


def section(text: str, heading: str) -> str:
    """The body of `## heading` in a Markdown text, up to the next `## ` heading."""
    return text.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
