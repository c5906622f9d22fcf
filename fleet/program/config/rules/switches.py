"""Keys read only under another setting: set without their switch they do nothing, almost always a
forgotten switch, so each is reported by name."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from fleet.program.config.rules.base import Problem, Rules, Values, inert
from fleet.program.github_access.plan import PushAccess

RULES: Final = Rules()

# Keys that are read only under another setting: set without it they do nothing, which is
# almost always a forgotten switch, so they are reported as the other credential mode's keys are.
_RECEIVER_KEYS: Final = {
    "receiver_host": "receiverHost",
    "receiver_token_length": "receiverTokenLength",
    "receiver_token_special": "receiverTokenSpecial",
    "receiver_ingress": "receiverIngress",
    "receiver_ingress_class": "receiverIngressClass",
    "receiver_tls_secret": "receiverTlsSecret",
}

_INGRESS_KEYS: Final = {
    "receiver_ingress_class": "receiverIngressClass",
    "receiver_tls_secret": "receiverTlsSecret",
}

_ENTERPRISE_KEYS: Final = {
    "enterprise_registry": "enterpriseRegistry",
    "enterprise_username": "enterpriseUsername",
}

_AUTOMATION_KEYS: Final = {
    "automation_author_name": "automationAuthorName",
    "automation_author_email": "automationAuthorEmail",
}


@RULES.reads("receivers", *_RECEIVER_KEYS)
def _receiver_keys_need_receivers(v: Values) -> Iterator[Problem]:
    if not v["receivers"]:
        yield from inert(v, _RECEIVER_KEYS, "while receivers is false; set receivers: true")


@RULES.reads("receivers", "receiver_ingress", *_INGRESS_KEYS)
def _ingress_keys_need_the_ingress(v: Values) -> Iterator[Problem]:
    if v["receivers"] and not v["receiver_ingress"]:
        yield from inert(
            v, _INGRESS_KEYS, "while receiverIngress is false (no Ingress is declared); set it"
        )


@RULES.reads("sync_kind", "sync_interval")
def _sync_interval_needs_sync(v: Values) -> Iterator[Problem]:
    if v["sync_kind"] is None and v["sync_interval"] is not None:
        yield (
            "syncInterval",
            "has no effect without syncKind (the FluxInstance does not sync); set the sync "
            "keys, or remove the key",
        )


@RULES.reads("bot_push_access", "bot_push_branch")
def _push_branch_needs_push_access(v: Values) -> Iterator[Problem]:
    if v["bot_push_access"] is PushAccess.NONE and v.changed("bot_push_branch"):
        yield (
            "botPushBranch",
            "has no effect while botPushAccess is none (no branch rule is declared); set "
            "botPushAccess, or remove the key",
        )


@RULES.reads("enterprise_token", *_ENTERPRISE_KEYS)
def _enterprise_keys_need_the_token(v: Values) -> Iterator[Problem]:
    if v["enterprise_token"] is None:
        yield from inert(
            v,
            _ENTERPRISE_KEYS,
            "without enterpriseToken (no registry login is declared); set the token "
            "(FLEET_ENTERPRISE_TOKEN)",
        )


@RULES.reads("image_automation", *_AUTOMATION_KEYS)
def _automation_keys_need_image_automation(v: Values) -> Iterator[Problem]:
    if not v["image_automation"]:
        yield from inert(
            v, _AUTOMATION_KEYS, "while imageAutomation is false; set imageAutomation: true"
        )
