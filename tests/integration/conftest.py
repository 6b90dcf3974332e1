"""Real Docker engine fixtures: every container a test makes is removed afterwards."""

from __future__ import annotations

import uuid

import docker
import pytest

from devtools.panel import remove_volumes
from saas_panel.runtime.base import MANAGED_LABEL
from tests.prerequisites import skip_outside_ci

TEST_NETWORK = "saas-panel-test"


@pytest.fixture(scope="session")
def docker_client():
    try:
        client = docker.from_env(timeout=30)
        client.ping()
    except Exception as exc:  # noqa: BLE001 - no socket, engine down: all mean "no engine here"
        skip_outside_ci(f"Docker engine not reachable ({exc}); run `make test`, which starts it")
    return client


@pytest.fixture
def engine(db, docker_client, monkeypatch, tmp_path):
    """A migrated DB plus a per-test container name prefix; cleans up its containers and volumes
    (with their loop file systems, kept under tmp_path)."""
    prefix = f"t{uuid.uuid4().hex[:8]}-"
    storage_dir = tmp_path / "volumes"
    monkeypatch.setenv("SAAS_PANEL_CONTAINER_PREFIX", prefix)
    monkeypatch.setenv("SAAS_PANEL_STORAGE_DIR", str(storage_dir))
    monkeypatch.setenv("SAAS_PANEL_USER_NETWORK", TEST_NETWORK)
    # These tests reach the apps on a loopback host port (the edge is tested end to end in e2e).
    monkeypatch.setenv("SAAS_PANEL_BIND_HOST", "127.0.0.1")
    yield prefix
    for container in docker_client.containers.list(all=True, filters={"name": prefix, "label": MANAGED_LABEL}):
        container.remove(force=True)
    remove_volumes(docker_client, prefix, storage_dir)
