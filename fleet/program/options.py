"""Resource options shared by the components."""

from __future__ import annotations

import pulumi


def child(
    parent: pulumi.ComponentResource, opts: pulumi.ResourceOptions | None
) -> pulumi.ResourceOptions:
    """Options for a component's resources: parented, and ordered after what the component waits for.

    The engine does not pass a component's `depends_on` down to its children, so without this a
    FluxInstance inside a component that depends on the operator release could be applied before
    the release has installed its CRD.
    """
    return pulumi.ResourceOptions(parent=parent, depends_on=opts.depends_on if opts else None)


def after(
    opts: pulumi.ResourceOptions, *deps: pulumi.Resource, protect: bool | None = None
) -> pulumi.ResourceOptions:
    """`opts`, also waiting for `deps` (added to any `depends_on` it has), optionally protected."""
    return pulumi.ResourceOptions.merge(
        opts, pulumi.ResourceOptions(depends_on=list(deps), protect=protect)
    )
