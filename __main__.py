"""One Kubernetes cluster of the d1 fleet, declared by this stack's configuration."""

from __future__ import annotations

import pulumi

from fleet.program import collector, providers
from fleet.program.cluster import Cluster, ClusterArgs
from fleet.program.config.errors import ConfigError
from fleet.program.config.load import load

collector.for_registration()

try:
    loaded = load()
except ConfigError as err:
    raise pulumi.RunError(str(err)) from None

settings = loaded.settings
cluster = Cluster(
    "cluster",
    ClusterArgs(
        settings,
        token_days_left=loaded.expiry.days_left,
        app_key_days_left=loaded.expiry.app_key_days_left,
        fleet=loaded.fleet,
        spoke_providers=providers.for_spokes(settings),
        spoke_token_days_left=loaded.spoke_days_left,
    ),
    opts=pulumi.ResourceOptions(
        providers=providers.for_cluster(settings, github_token=loaded.github_token)
    ),
)

for key, value in cluster.outputs().items():
    pulumi.export(key, value)
