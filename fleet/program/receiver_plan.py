"""Which Flux webhook Receivers a cluster needs, where they live, and the path Flux serves them on.

Pure values, no resources: the settings use them to count GitHub webhooks across the whole fleet
before anything is registered, and the `Receivers` component declares exactly these receivers.

With multitenant lockdown the notification-controller runs with `--no-cross-namespace-refs`, so a
Receiver can only annotate sources in its own namespace: a repository that several namespaces pull
(d1-apps, once per tenant) needs one Receiver, and therefore one GitHub webhook, per namespace.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from fleet.program import conventions as c


@dataclass(frozen=True)
class ReceiverTarget:
    """One Receiver: the repository whose pushes it receives and the GitRepository it triggers."""

    repository: str
    namespace: str
    source: str

    @property
    def name(self) -> str:
        """The Receiver is named after the source it triggers (unique within its namespace)."""
        return self.source

    @property
    def secret_name(self) -> str:
        return f"{self.source}{c.RECEIVER_SECRET_SUFFIX}"


def targets(
    *,
    infra_repository: str,
    apps_repository: str,
    fleet_repository: str | None,
    tenants: Sequence[str],
    image_automation: bool,
) -> tuple[ReceiverTarget, ...]:
    """Every GitRepository the stack declares (or the FluxInstance sync creates), one Receiver each."""
    found = [ReceiverTarget(infra_repository, c.FLUX_NAMESPACE, c.INFRA_SOURCE)]
    if fleet_repository is not None:
        # The FluxInstance names its sync source after its namespace when sync.name is unset.
        found.append(ReceiverTarget(fleet_repository, c.FLUX_NAMESPACE, c.FLUX_NAMESPACE))
    found.extend(ReceiverTarget(apps_repository, tenant, c.APPS_SOURCE) for tenant in tenants)
    if image_automation:
        found.append(ReceiverTarget(apps_repository, c.APPS_UPDATE_NAMESPACE, c.APPS_SOURCE))
    return tuple(found)


def webhooks_per_repository(owner: str, found: Iterable[ReceiverTarget]) -> Counter[str]:
    """GitHub webhooks per repository (`owner/name`, lowercase as GitHub compares them)."""
    return Counter(f"{owner}/{t.repository}".lower() for t in found)


def webhook_path(token: str, name: str, namespace: str) -> str:
    """The path the notification-controller serves a Receiver on (`status.webhookPath`).

    Flux hashes the token, the Receiver's name and its namespace, concatenated without separators,
    and serves the lowercase hex SHA-256 under `/hook/`.
    """
    digest = hashlib.sha256((token + name + namespace).encode()).hexdigest()
    return f"{c.RECEIVER_PATH_PREFIX}{digest}"
