"""What the Swarm runtime makes of the engine's answers (the engine itself: tests/integration/test_swarm_runtime.py)."""

from __future__ import annotations

from saas_panel.runtime.base import VolumeSpec
from saas_panel.runtime.swarm_runtime import _event, _node, task_template
from saas_panel.services.provisioning import container_spec


def test_a_task_template_carries_every_limit_and_pins_the_node():
    spec = container_spec("saas-user-ann", "ann", "img:1", 96, 0.5, data=VolumeSpec("saas-user-data-1", "ann", size_mb=64))
    template = task_template(spec, "node123")
    container = template["ContainerSpec"]
    assert container["User"] == "65534:65534" and container["ReadOnly"] and container["Init"]
    assert container["CapabilityDrop"] == ["ALL"]
    assert template["Resources"]["Limits"] == {"NanoCPUs": 500_000_000, "MemoryBytes": 96 * 1024 * 1024, "Pids": 64}
    assert template["Placement"]["Constraints"] == ["node.id==node123"]
    assert {m["Target"] for m in container["Mounts"]} == {"/tmp", "/data"}
    data = next(m for m in container["Mounts"] if m["Target"] == "/data")
    assert data["VolumeOptions"]["Labels"]["saas-panel.owner"] == "ann"


def test_a_node_without_an_address_of_its_own_takes_its_manager_address():
    raw = {"ID": "n1", "Description": {"Hostname": "node0"}, "Spec": {"Role": "manager", "Availability": "drain"},
           "Status": {"State": "down", "Addr": "0.0.0.0"}, "ManagerStatus": {"Addr": "198.18.1.2:2377"}}
    node = _node(raw)
    assert (node.hostname, node.address, node.role, node.ready, node.available) == ("node0", "198.18.1.2", "manager", False, False)


def test_node_events_name_the_service_and_old_task_containers_going_change_nothing():
    died = {"Type": "container", "Action": "die", "Actor": {"ID": "c1", "Attributes": {
        "com.docker.swarm.service.name": "saas-user-ann", "com.docker.swarm.service.id": "s1", "saas-panel.owner": "ann"}}}
    assert (_event(died).container_id, _event(died).name, _event(died).state) == ("s1", "saas-user-ann", "stopped")
    destroyed = {**died, "Action": "destroy"}
    assert _event(destroyed).state is None
    removed = {"Type": "service", "Action": "remove", "Actor": {"ID": "s1", "Attributes": {"name": "saas-user-ann"}}}
    assert (_event(removed).container_id, _event(removed).name, _event(removed).state) == ("s1", "saas-user-ann", "missing")
    assert _event({"Type": "container", "Action": "die", "Actor": {"Attributes": {}}}) is None
