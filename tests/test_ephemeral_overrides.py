"""Config derivation: an ephemeral stack is its base stack with its own cluster, name and tokens."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from fleet.program.config import keys, parse, sources
from fleet.tools.ephemeral.overrides import (
    ClusterTarget,
    OverrideError,
    derive,
    dropped_secrets,
    load_base,
    read_credentials,
    read_tokens,
    targets,
)
from tests.helpers import APP_KEY, APPS_APP_ID, APPS_APP_KEY, APPS_INSTALLATION_ID

ROOT = Path(__file__).resolve().parent.parent
PLATFORM = "github_pat_" + "P" * 40
APPS = "github_pat_" + "A" * 40
TOKEN_ENV = {
    "FLEET_PLATFORM_TOKEN": PLATFORM,
    "FLEET_PLATFORM_TOKEN_EXPIRES": "2099-01-31",
    "FLEET_APPS_TOKEN": APPS,
    "FLEET_APPS_TOKEN_EXPIRES": "2099-02-28",
}
# Image automation's push token: the staging base runs image automation.
PUSH_ENV = {
    "FLEET_APPS_PUSH_TOKEN": "github_pat_" + "W" * 40,
    "FLEET_APPS_PUSH_TOKEN_EXPIRES": "2099-03-31",
}
BASE: dict[str, Any] = {
    "d1-fleet:environment": "staging",
    "d1-fleet:clusterName": "staging-1",
    "d1-fleet:kubeContext": "staging",
    "d1-fleet:githubAccessOwner": True,
    "d1-fleet:tenants": ["apps", "monitoring"],
    "d1-fleet:platformToken": {"secure": "v1:encrypted-with-the-staging-key"},
    "d1-fleet:githubToken": {"secure": "v1:other"},
    "kubernetes:enableServerSideApply": True,
}


def write_stack(folder: Path, name: str, config: dict[str, Any]) -> None:
    (folder / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump({"config": config}))


def test_derive_overrides_identity_cluster_and_github_ownership() -> None:
    tokens = read_tokens(TOKEN_ENV)
    config = derive(
        BASE, stack_name="eph-7-0", target=ClusterTarget(context="kind-a"), tokens=tokens
    )
    assert config.plain["d1-fleet:clusterName"] == "eph-7-0"
    assert config.plain["d1-fleet:kubeContext"] == "kind-a"
    assert config.plain["d1-fleet:githubAccessOwner"] is False
    assert config.plain["d1-fleet:platformTokenExpires"] == "2099-01-31"
    assert config.environment == {"FLEET_PLATFORM_TOKEN": PLATFORM, "FLEET_APPS_TOKEN": APPS}
    assert not {"d1-fleet:platformToken", "d1-fleet:appsToken"} & set(config.plain)


def test_derive_keeps_base_values_with_their_types_and_drops_secure_ones() -> None:
    config = derive(
        BASE, stack_name="eph-7-0", target=ClusterTarget("kind-a"), tokens=read_tokens(TOKEN_ENV)
    )
    assert config.plain["d1-fleet:tenants"] == ["apps", "monitoring"]
    assert config.plain["kubernetes:enableServerSideApply"] is True
    assert config.plain["d1-fleet:environment"] == "staging"
    assert not any(isinstance(v, dict) and "secure" in v for v in config.plain.values())


def test_derive_replaces_the_base_cluster_with_a_kubeconfig_only_target(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kind.yaml"
    config = derive(
        BASE,
        stack_name="eph-7-1",
        target=ClusterTarget(kubeconfig=str(kubeconfig)),
        tokens=read_tokens(TOKEN_ENV),
    )
    assert "d1-fleet:kubeContext" not in config.plain, "the base stack's context must not leak"
    assert config.plain["d1-fleet:kubeconfig"] == str(kubeconfig.resolve())


def test_secrets_never_show_in_repr() -> None:
    config = derive(
        BASE, stack_name="eph-7-0", target=ClusterTarget("kind-a"), tokens=read_tokens(TOKEN_ENV)
    )
    assert PLATFORM not in repr(config)
    assert APPS not in repr(read_tokens(TOKEN_ENV))


def test_dropped_secrets_names_base_secrets_the_environment_does_not_replace() -> None:
    assert dropped_secrets(BASE, read_tokens(TOKEN_ENV)) == ["d1-fleet:githubToken"]


def test_read_tokens_reports_every_problem_together() -> None:
    env = {"FLEET_PLATFORM_TOKEN": "hunter2", "FLEET_PLATFORM_TOKEN_EXPIRES": "31/01/2099"}
    with pytest.raises(OverrideError) as caught:
        read_tokens(env)
    assert caught.value.problems == [
        "FLEET_PLATFORM_TOKEN: allowed: a fine-grained personal access token (github_pat_...)",
        "FLEET_PLATFORM_TOKEN_EXPIRES: '31/01/2099' is not a date YYYY-MM-DD",
        "FLEET_APPS_TOKEN and FLEET_APPS_TOKEN_EXPIRES must be set",
    ]


def test_read_tokens_takes_the_optional_enterprise_token() -> None:
    env = {
        **TOKEN_ENV,
        "FLEET_ENTERPRISE_TOKEN": "ghp_" + "E" * 36,
        "FLEET_ENTERPRISE_TOKEN_EXPIRES": "2099-03-01",
    }
    tokens = read_tokens(env)
    assert set(tokens.secret) == {"platformToken", "appsToken", "enterpriseToken"}
    assert tokens.plain["enterpriseTokenExpires"] == "2099-03-01"


def test_load_base_refuses_a_production_base(tmp_path: Path) -> None:
    write_stack(tmp_path, "prod-eu", {"d1-fleet:environment": "production"})
    with pytest.raises(OverrideError, match="production stack"):
        load_base(tmp_path, "prod-eu")


def test_load_base_names_a_missing_stack_file(tmp_path: Path) -> None:
    with pytest.raises(OverrideError, match=r"Pulumi\.nope\.yaml does not exist"):
        load_base(tmp_path, "nope")


def test_load_base_returns_the_file_config_as_written(tmp_path: Path) -> None:
    write_stack(tmp_path, "staging", BASE)
    assert load_base(tmp_path, "staging") == BASE


@pytest.mark.parametrize(
    ("contexts", "kubeconfigs", "expected"),
    [
        (["a", "b"], [], [ClusterTarget("a"), ClusterTarget("b")]),
        (["a", "b"], ["k"], [ClusterTarget("a", "k"), ClusterTarget("b", "k")]),
        (["a", "b"], ["k1", "k2"], [ClusterTarget("a", "k1"), ClusterTarget("b", "k2")]),
        ([], ["k1", "k2"], [ClusterTarget(None, "k1"), ClusterTarget(None, "k2")]),
    ],
)
def test_targets(
    contexts: list[str], kubeconfigs: list[str], expected: list[ClusterTarget]
) -> None:
    assert targets(contexts, kubeconfigs) == expected


@pytest.mark.parametrize(
    ("contexts", "kubeconfigs", "message"),
    [([], [], "give each test cluster"), (["a", "b", "c"], ["k1", "k2"], "one per context")],
)
def test_targets_rejects(contexts: list[str], kubeconfigs: list[str], message: str) -> None:
    with pytest.raises(OverrideError, match=message):
        targets(contexts, kubeconfigs)


def test_config_derived_from_the_real_staging_stack_passes_the_programs_validation() -> None:
    """The real Pulumi.staging.yaml, derived, then read the way the program reads its config."""
    base = load_base(ROOT, "staging")
    config = derive(
        base,
        stack_name="eph-123-1-0",
        target=ClusterTarget("kind-a"),
        tokens=read_credentials({**TOKEN_ENV, **PUSH_ENV}, base),
    )
    values = config.plain
    raw: dict[str, Any] = {}
    for key, kind in keys.config_keys().items():
        value = values.get(f"d1-fleet:{key}")
        if value is None:
            continue
        # pulumi.Config.get returns strings; get_object returns arrays as lists.
        raw[key] = (
            value
            if kind == "array"
            else str(value).lower()
            if isinstance(value, bool)
            else str(value)
        )
    # The tokens reach the program only through the environment of the `pulumi` process.
    parsed = parse.parse(sources.from_environment(raw, config.environment))
    assert parsed.platform_token is not None
    assert parsed.platform_token.get_secret_value() == PLATFORM
    assert parsed.cluster_name == "eph-123-1-0"
    assert parsed.github_access_owner is False
    assert parsed.kube_context == "kind-a"


APP_ENV = {
    "FLEET_GITHUB_APP_PRIVATE_KEY": APP_KEY,
    "FLEET_GITHUB_APPS_PRIVATE_KEY": APPS_APP_KEY,
}
APP_BASE: dict[str, Any] = {
    **BASE,
    "d1-fleet:gitAuth": "githubApp",
    "d1-fleet:githubAppId": 123456,
    "d1-fleet:githubAppInstallationId": 7890123,
    "d1-fleet:githubAppKeyCreated": "2026-03-01",
    "d1-fleet:githubAppPrivateKey": {"secure": "v1:encrypted-with-the-staging-key"},
    "d1-fleet:githubAppsAppId": APPS_APP_ID,
    "d1-fleet:githubAppsInstallationId": APPS_INSTALLATION_ID,
    "d1-fleet:githubAppsKeyCreated": "2026-03-01",
    "d1-fleet:githubAppsPrivateKey": {"secure": "v1:encrypted-with-the-staging-key"},
}


def test_app_mode_base_takes_the_app_key_and_no_token_from_the_environment() -> None:
    # One CI environment may hold both kinds; an App-mode copy gets the two App keys only.
    env = {**TOKEN_ENV, **APP_ENV, **PUSH_ENV}
    credentials = read_credentials(env, APP_BASE)
    assert APP_KEY not in repr(credentials)
    config = derive(
        APP_BASE, stack_name="eph-7-0", target=ClusterTarget("kind-a"), tokens=credentials
    )
    assert config.environment == APP_ENV
    assert not {k for k in config.plain if "Token" in k}
    assert config.plain["d1-fleet:githubAppId"] == 123456
    assert dropped_secrets(APP_BASE, credentials) == [
        "d1-fleet:githubToken",
        "d1-fleet:platformToken",
    ]
    # A token-mode base keeps reading the tokens, never the key.
    assert read_credentials(env, BASE).secret == {"platformToken": PLATFORM, "appsToken": APPS}


def test_app_mode_base_without_the_key_says_which_variable() -> None:
    with pytest.raises(OverrideError) as caught:
        read_credentials(TOKEN_ENV, APP_BASE)
    assert caught.value.problems == [
        "FLEET_GITHUB_APP_PRIVATE_KEY must be set: the base stack uses gitAuth githubApp "
        "(its private key is a secret of the base stack and is not copied)",
        "FLEET_GITHUB_APPS_PRIVATE_KEY must be set: the base stack uses gitAuth githubApp "
        "(its second App key is a secret of the base stack and is not copied)",
    ]
    # Without a second App the copy reads d1-apps with the apps token.
    base = {k: v for k, v in APP_BASE.items() if "githubApps" not in k}
    credentials = read_credentials({**TOKEN_ENV, **APP_ENV}, base)
    assert set(credentials.secret) == {"githubAppPrivateKey", "appsToken"}


def test_config_derived_from_an_app_mode_base_passes_the_programs_validation() -> None:
    base = {
        **load_base(ROOT, "staging"),
        **{k: v for k, v in APP_BASE.items() if "github" in k.lower() or "gitAuth" in k},
    }
    base.pop("d1-fleet:githubToken", None)
    env = {**TOKEN_ENV, **APP_ENV, **PUSH_ENV}
    config = derive(
        base,
        stack_name="eph-1-0",
        target=ClusterTarget("kind-a"),
        tokens=read_credentials(env, base),
    )
    raw = {
        key: str(value).lower()
        if isinstance(value, bool)
        else value
        if kind == "array"
        else str(value)
        for key, kind in keys.config_keys().items()
        if (value := config.plain.get(f"d1-fleet:{key}")) is not None
    }
    parsed = parse.parse(sources.from_environment(raw, config.environment))
    assert parsed.github_app
    assert parsed.github_app_private_key is not None
    assert parsed.github_app_private_key.get_secret_value() == APP_KEY
    assert parsed.platform_token is None


def test_read_tokens_judges_tokens_as_the_program_does() -> None:
    """A space inside a token is reported as such, not as a classic token (the program's own
    validators, `fleet.program.config.formats`, give the reason)."""
    spaced = "github_pat_" + "P" * 20 + " " + "P" * 20
    classic = "ghp_" + "C" * 36
    env = {
        **TOKEN_ENV,
        "FLEET_PLATFORM_TOKEN": spaced,
        "FLEET_APPS_TOKEN": classic,
    }
    with pytest.raises(OverrideError) as caught:
        read_tokens(env)
    platform, apps = caught.value.problems
    assert platform.startswith("FLEET_PLATFORM_TOKEN: ")
    assert "whitespace" in platform
    assert "classic" not in platform
    assert apps.startswith("FLEET_APPS_TOKEN: a classic personal access token (ghp_...)")
    assert spaced not in platform
    assert classic not in apps
