"""One Kubernetes cluster of the d1 fleet, declared by this stack's configuration."""

from __future__ import annotations

import pulumi

from fleet.program import collector, providers
from fleet.program.cluster import Cluster, ClusterArgs
from fleet.program.settings import ConfigError
from fleet.program.stack_config import load

collector.for_registration()

try:
    settings, expiry, fleet = load()
except ConfigError as err:
    raise pulumi.RunError(str(err)) from None

cluster = Cluster(
    "cluster",
    ClusterArgs(
        settings,
        token_days_left=expiry.days_left,
        app_key_days_left=expiry.app_key_days_left,
        fleet=fleet,
    ),
    opts=pulumi.ResourceOptions(providers=providers.for_cluster(settings)),
)

for key, value in cluster.outputs().items():
    pulumi.export(key, value)
