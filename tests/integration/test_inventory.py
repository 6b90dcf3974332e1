"""The collector's inventory on the real engine: containers made, killed and removed behind the
panel's back show in the first sweep after their event, and the sweeps list nothing meanwhile."""

from __future__ import annotations

from devtools.events import eventually, following
from saas_panel.config import get_settings
from saas_panel.runtime import get_runtime
from saas_panel.runtime.base import owner_labels
from saas_panel.services.monitor import Collector


def _state_of(collector: Collector, name: str) -> str | None:
    """What the inventory holds for `name` (it is trusted here: no engine call)."""
    assert collector.inventory.trusted
    return next((info.state for info in collector.inventory.containers() if info.name == name), None)


def test_a_container_made_killed_and_removed_outside_the_panel_shows_in_the_next_sweep(engine, docker_client):
    collector = Collector(get_runtime())
    name = f"{engine}outsider"
    with following(collector):
        collector.sweep()
        lists = collector.inventory.lists
        container = docker_client.containers.run(get_settings().user_image, name=name, labels=owner_labels("outsider"), detach=True)

        eventually(lambda: _state_of(collector, name) == "running", "the inventory to hear of the new container")
        snapshot = collector.sweep()
        assert name in snapshot.orphans
        assert name in [usage.name for usage in snapshot.containers]

        container.kill()
        eventually(lambda: _state_of(collector, name) == "exited", "the inventory to hear of its death")
        snapshot = collector.sweep()
        assert name in snapshot.orphans
        assert name not in [usage.name for usage in snapshot.containers]

        container.remove()
        eventually(lambda: _state_of(collector, name) is None, "the inventory to hear of its removal")
        assert name not in collector.sweep().orphans
        assert collector.inventory.lists == lists  # all of it came from events
