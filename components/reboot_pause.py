"""The pause between a host's restart request and the step that must run after it.

The reboot step schedules `shutdown /r /t 10` and returns. Without a pause, the next step could
reach the host before it goes down (SSH dials at once; a Run Command is picked up by the still
running agent) and then be cut off. The pause runs on the machine running Pulumi (the program's own
Python, so it works on any OS), longer than the shutdown delay; the next step then checks that the
last boot time changed (host_setup.wait_block), so a host that has not restarted fails loudly
instead of being set up half-way.
"""

from __future__ import annotations

import sys
from typing import Sequence

import pulumi
from pulumi_command import local

PAUSE_SECONDS = 90


def reboot_pause(name: str, parent: pulumi.Resource, after: pulumi.Resource, triggers: Sequence) -> local.Command:
    """Return a local command that waits PAUSE_SECONDS after `after`; it reruns whenever `triggers` change."""
    return local.Command(
        name, create=f"import time; time.sleep({PAUSE_SECONDS})", interpreter=[sys.executable, "-c"],
        triggers=list(triggers), logging=local.Logging.NONE,
        # The interpreter path differs between machines running Pulumi: not a reason to pause again.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[after], ignore_changes=["interpreter"]))
