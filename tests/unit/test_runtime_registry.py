"""SAAS_PANEL_RUNTIME picks the engine's class from the registry, once per process."""

from __future__ import annotations

import pytest

from saas_panel import runtime
from saas_panel.runtime.docker_runtime import DockerRuntime
from tests.mocking import FakeRuntime


@pytest.fixture(autouse=True)
def fresh_runtime():
    runtime.reset_runtime()
    yield
    runtime.reset_runtime()


def test_the_default_is_docker(monkeypatch):
    monkeypatch.delenv("SAAS_PANEL_RUNTIME", raising=False)
    assert type(runtime.get_runtime()) is DockerRuntime  # made lazily: no engine call here


def test_the_setting_picks_the_class_and_the_instance_is_shared(monkeypatch):
    monkeypatch.setitem(runtime.RUNTIMES, "fake", "tests.mocking:FakeRuntime")
    monkeypatch.setenv("SAAS_PANEL_RUNTIME", "fake")
    chosen = runtime.get_runtime()
    assert type(chosen) is FakeRuntime
    assert runtime.get_runtime() is chosen
    monkeypatch.setenv("SAAS_PANEL_RUNTIME", "docker")
    assert runtime.get_runtime() is chosen  # resolved once per process
    runtime.reset_runtime()
    assert type(runtime.get_runtime()) is DockerRuntime


def test_an_unknown_name_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("SAAS_PANEL_RUNTIME", "podman")
    with pytest.raises(ValueError, match=r"SAAS_PANEL_RUNTIME='podman' is not a known container runtime \(known: docker, swarm\)"):
        runtime.get_runtime()


def test_swarm_is_one_setting_away(monkeypatch):
    from saas_panel.runtime.swarm_runtime import SwarmRuntime

    monkeypatch.setenv("SAAS_PANEL_RUNTIME", "swarm")
    assert type(runtime.get_runtime()) is SwarmRuntime  # made lazily: no engine call here
