"""Rules on the webhook receivers: the controller that serves them, a host GitHub can reach."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from fleet.program import conventions as c
from fleet.program.config.rules.base import Problem, Rules, Values

RULES: Final = Rules()


@RULES.reads("receivers", "flux_components")
def _receivers_need_notification_controller(v: Values) -> Iterator[Problem]:
    if v["receivers"] and "notification-controller" not in v["flux_components"]:
        yield ("fluxComponents", "receivers need the notification-controller component")


@RULES.reads("receivers", "receiver_host", "cluster_domain", "kubernetes_dns_domain")
def _receiver_host_reachable(v: Values) -> Iterator[Problem]:
    # GitHub resolves the host on the internet: a name in the cluster's own DNS domain (or a
    # Service name, *.svc) resolves only inside the cluster, so no webhook would ever arrive.
    if not v["receivers"]:
        return
    key = "receiverHost" if v["receiver_host"] else "clusterDomain"
    host = str(v["receiver_host"] or f"{c.RECEIVER_HOST_PREFIX}.{v['cluster_domain']}").lower()
    domain = str(v["kubernetes_dns_domain"]).lower()
    if host == domain or host.endswith((f".{domain}", ".svc")):
        yield (
            key,
            f"{host!r} is a name inside the cluster (kubernetesDnsDomain {domain!r}, or a "
            "Service's .svc name), which GitHub cannot reach; allowed: a public DNS name "
            "that routes to the receiver's Ingress or load balancer",
        )
