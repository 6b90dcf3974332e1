"""The panel's Docker engine restarted (`docker restart` of a Docker-in-docker node, never the host's
engine): the user's app comes back by its restart policy, and the panel's view of it follows."""

from __future__ import annotations

import subprocess
import uuid

import pytest

from devtools.swarm import NODE_IMAGE, Fleet
from saas_panel.models import ContainerState
from saas_panel.runtime.docker_runtime import DockerRuntime
from saas_panel.services import auth, provisioning, recovery
from saas_panel.services.monitor import Collector
from tests.faults.helpers import answers, wait_until
from tests.prerequisites import skip_outside_ci

pytestmark = [pytest.mark.engine, pytest.mark.faults, pytest.mark.swarm]


@pytest.fixture
def node(db, monkeypatch):
    """A one-node fleet, whose apps publish their port on the node's address."""
    if subprocess.run(["docker", "image", "inspect", NODE_IMAGE], capture_output=True).returncode != 0:
        skip_outside_ci(f"no {NODE_IMAGE}: build it with `bash scripts/swarm_node_image.sh`")
    monkeypatch.setenv("SAAS_PANEL_CONTAINER_PREFIX", f"f{uuid.uuid4().hex[:8]}-")
    monkeypatch.setenv("SAAS_PANEL_STORAGE_QUOTA", "none")  # loop file systems would be the host's, not the node's
    monkeypatch.setenv("SAAS_PANEL_BIND_HOST", "0.0.0.0")
    monkeypatch.setenv("SAAS_PANEL_BCRYPT_ROUNDS", "4")
    with Fleet(1) as fleet:
        yield fleet


def test_after_an_engine_restart_the_app_runs_again_and_the_panel_agrees(node):
    fleet, name, address = node, node.nodes[0].name, node.nodes[0].address
    runtime = DockerRuntime(client=fleet.engine(name))  # the panel's engine is the node's
    auth.register("alice", "alice@example.com", "alice password")
    before = provisioning.provision("alice", runtime=runtime)
    collector = Collector(runtime)

    fleet.restart_node(name)

    wait_until(lambda: fleet.engine(name).containers.get(before.name).status == "running", "the app started again by the engine")
    collector.sweep()
    after = provisioning.status("alice", runtime)
    assert (after.state, after.engine_id) == (ContainerState.RUNNING.value, before.engine_id)
    wait_until(lambda: answers(after.host_port, host=address), "the app to answer after the restart")
    assert recovery.recover(runtime).anything is False  # nothing was left half done
