"""Ephemeral test fleets: short-lived copies of a base stack, driven by the Automation API.

`python -m fleet.tools.ephemeral` creates one stack per test cluster from a base stack's config, runs them
in parallel, checks them and always tears them down; docs/ephemeral-fleets.md is the user guide.
"""
