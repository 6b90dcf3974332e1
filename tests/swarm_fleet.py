"""The `swarm_fleet` fixture (devtools/swarm.py): one Swarm of three Docker-in-docker nodes, a manager
and two workers, for the whole session; its tests are marked `swarm`."""

from __future__ import annotations

import subprocess

import pytest

from devtools.swarm import NODE_IMAGE, Fleet
from tests.prerequisites import skip_outside_ci


@pytest.fixture(scope="session")
def swarm_fleet():
    if subprocess.run(["docker", "image", "inspect", NODE_IMAGE], capture_output=True).returncode != 0:
        skip_outside_ci(f"no {NODE_IMAGE} (or no Docker engine): build it with `bash scripts/swarm_node_image.sh`")
    with Fleet(3) as fleet:
        print(f"\nswarm fleet of {len(fleet.nodes)} nodes up in {fleet.bring_up_s:.1f} s")
        yield fleet
