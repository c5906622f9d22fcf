"""Entry point the Pulumi CLI runs for `--policy-pack policy`: serves the fleet's guardrails."""

from __future__ import annotations

import sys
from pathlib import Path

from pulumi_policy import EnforcementLevel, PolicyPack

# The CLI runs this file as a script; the repository root makes `policy` importable as a package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from policy import guardrails

guardrails.keep_secret_markers()
PolicyPack(
    name="d1-fleet-guardrails",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=guardrails.POLICIES,
)
