"""Serves the hyperdock policy pack to `pulumi preview --policy-pack policies`."""

import sys
from pathlib import Path

# The CLI runs this file from the policies/ folder: make the repository's packages importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402

from policies.pack import PACK_NAME, POLICIES  # noqa: E402

PolicyPack(name=PACK_NAME, policies=POLICIES, enforcement_level=EnforcementLevel.MANDATORY)
