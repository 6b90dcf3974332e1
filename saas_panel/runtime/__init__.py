"""The container engine behind a small interface. Only this package imports an engine's SDK.

SAAS_PANEL_RUNTIME names the engine; RUNTIMES maps each name to its class, imported only
when chosen (as JupyterHub's spawner_class setting does). A new engine is one new module
implementing `ContainerRuntime` and one line in RUNTIMES.
"""

from __future__ import annotations

import importlib
import threading

from saas_panel.config import get_settings
from saas_panel.runtime.base import ContainerInfo, ContainerRuntime, ContainerSpec, NodeInfo, VolumeSpec

RUNTIMES: dict[str, str] = {
    "docker": "saas_panel.runtime.docker_runtime:DockerRuntime",
    "swarm": "saas_panel.runtime.swarm_runtime:SwarmRuntime",
}

_shared: ContainerRuntime | None = None
_shared_lock = threading.Lock()


def runtime_class(name: str) -> type[ContainerRuntime]:
    """The class registered under `name`; ValueError naming the known ones otherwise."""
    if name not in RUNTIMES:
        known = ", ".join(sorted(RUNTIMES))
        raise ValueError(f"SAAS_PANEL_RUNTIME={name!r} is not a known container runtime (known: {known})")
    module, _, attribute = RUNTIMES[name].partition(":")
    return getattr(importlib.import_module(module), attribute)


def get_runtime() -> ContainerRuntime:
    """The runtime SAAS_PANEL_RUNTIME names, made on first use and shared by the whole process."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = runtime_class(get_settings().runtime)()
        return _shared


def reset_runtime() -> None:
    """Forget the shared runtime: the next `get_runtime()` reads the setting again (tests)."""
    global _shared
    with _shared_lock:
        _shared = None


__all__ = ["RUNTIMES", "ContainerInfo", "NodeInfo", "ContainerRuntime", "ContainerSpec", "VolumeSpec", "get_runtime", "reset_runtime", "runtime_class"]
