"""Nodes of an engine of several hosts: recorded each sweep, a node going down logged once (and
on its users' timelines), apps placed on their node, and what the admin and the user see."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from sqlmodel import select

from saas_panel import presentation, runtime
from saas_panel.db import session_scope
from saas_panel.errors import EngineUnavailable
from saas_panel.models import ActivityLog, Container, Node
from saas_panel.runtime import NodeInfo
from saas_panel.services import activity, auth, containers, nodes, overview, provisioning
from saas_panel.services.collector_loop import CollectorLoop
from saas_panel.services.coordination import LocalLease, LocalWatchers
from saas_panel.services.monitor import Collector
from saas_panel.state.dashboard import DashboardState
from saas_panel.state.live import ContainerLive
from tests.handlers import call, run, state_with_token
from tests.integration.recording_publisher import RecordingPublisher, running, until
from tests.mocking import FakeRuntime


def node(hostname: str, ready: bool = True, available: bool = True, role: str = "worker", id: str | None = None) -> NodeInfo:
    address = {"manager-1": "10.1.0.1", "worker-1": "10.1.0.2", "worker-2": "10.1.0.3"}.get(hostname, "10.1.0.9")
    return NodeInfo(id=id or f"id-{hostname}", hostname=hostname, address=address, role=role, ready=ready, available=available)


UP = [node("manager-1", role="manager"), node("worker-1"), node("worker-2")]
W1_DOWN = [node("manager-1", role="manager"), node("worker-1", ready=False), node("worker-2")]


@pytest.fixture
def fake(monkeypatch) -> FakeRuntime:
    """A swarm of three nodes, all ready; new apps go to worker-1 unless a test says otherwise."""
    engine = FakeRuntime()
    engine.node_list, engine.node = list(UP), "worker-1"
    monkeypatch.setattr(runtime, "_shared", engine)
    return engine


@pytest.fixture
def app_on(make_user, fake, monkeypatch):
    """A user whose app was provisioned on `hostname`; returns the username."""
    monkeypatch.setenv("SAAS_PANEL_BCRYPT_ROUNDS", "4")

    def _make(username: str, hostname: str | None = "worker-1") -> str:
        make_user(username)
        fake.node = hostname
        provisioning.provision(username)
        return username

    return _make


def logged(action: str) -> list[ActivityLog]:
    with session_scope() as session:
        return list(session.exec(select(ActivityLog).where(ActivityLog.action == action).order_by(ActivityLog.id)).all())


def row_of(username: str) -> Container:
    with session_scope() as session:
        return session.exec(select(Container).where(Container.name == provisioning.container_name(username))).one()


def test_a_node_going_down_is_logged_once_and_coming_back_once(app_on):
    app_on("alice"), app_on("bob"), app_on("carol", "worker-2")
    assert nodes.sync(UP) == []  # first seen ready: nothing to say
    assert nodes.sync(W1_DOWN) == [nodes.NodeChange("worker-1", down=True, owners=["alice", "bob"])]
    assert nodes.sync(W1_DOWN) == []  # still down: no second row
    [down] = logged("node_down")
    assert (down.actor, down.target, down.target_id, down.details) == ("system", "worker-1", None, "10.1.0.2; 2 apps on it (2 running)")
    assert [(row.target, row.details) for row in logged("app_node_down")] == [("alice", nodes.APP_DOWN_NOTE), ("bob", nodes.APP_DOWN_NOTE)]

    assert nodes.sync(UP) == [nodes.NodeChange("worker-1", down=False, owners=["alice", "bob"])]
    assert nodes.sync(UP) == []
    assert [row.target for row in logged("node_up")] == ["worker-1"]
    assert [row.target for row in logged("app_node_up")] == ["alice", "bob"]
    assert len(logged("node_down")) == 1


def test_a_drain_and_its_end_are_logged_once_each_by_the_system(app_on):
    app_on("alice")
    nodes.sync(UP)
    nodes.sync(W1_DRAINED)
    nodes.sync(W1_DRAINED)
    [drained] = logged("node_drained")
    assert (drained.actor, drained.target, drained.details) == ("system", "worker-1", "takes no new apps; 1 app on it to move elsewhere")
    nodes.sync(UP)
    assert [(row.actor, row.target) for row in logged("node_active")] == [("system", "worker-1")]
    assert len(logged("node_drained")) == 1 and logged("node_down") == []


def test_each_affected_user_reads_it_on_their_timeline(app_on):
    app_on("alice"), app_on("carol", "worker-2")
    nodes.sync(UP)
    nodes.sync(W1_DOWN)
    [entry] = [presentation.timeline_row(row) for row in activity.timeline("alice") if row.action == "app_node_down"]
    assert (entry["actor"], entry["note"]) == ("system", nodes.APP_DOWN_NOTE)
    assert not [row for row in activity.timeline("carol") if row.action.startswith("app_node")]


def test_a_node_gone_from_the_list_is_down_and_goes_once_no_app_is_on_it(app_on, fake):
    app_on("alice")
    nodes.sync(UP)
    without_w1 = [info for info in UP if info.hostname != "worker-1"]
    [change] = nodes.sync(without_w1)
    assert change.down and change.owners == ["alice"]
    assert logged("node_down")[0].details.endswith("no longer in the engine's list of nodes")
    assert nodes.sync(without_w1) == []
    assert [(row.hostname, row.ready) for row in nodes.overview()] == [("manager-1", True), ("worker-1", False), ("worker-2", True)]

    provisioning.deprovision("alice", actor="alice")
    nodes.sync(without_w1)
    assert [row.hostname for row in nodes.overview()] == ["manager-1", "worker-2"]


def test_a_node_that_joined_again_is_listed_twice_and_is_ready(app_on):
    app_on("alice")
    nodes.sync(UP)
    rejoined = [*UP, node("worker-1", ready=False, id="id-of-before")]  # Swarm keeps the old entry, down
    assert nodes.sync(rejoined) == [] and nodes.sync(list(reversed(rejoined))) == []
    assert logged("node_down") == []


def test_a_node_first_seen_down_is_logged_down(app_on):
    app_on("alice")
    assert nodes.sync(W1_DOWN) == [nodes.NodeChange("worker-1", down=True, owners=["alice"])]


def test_the_overview_counts_the_apps_and_the_running_ones_per_node(app_on):
    app_on("alice"), app_on("bob"), app_on("carol", "worker-2")
    provisioning.control("bob", "stop", actor="bob")
    nodes.sync([*W1_DOWN[:2], replace(W1_DOWN[2], available=False)])
    rows = {row.hostname: row for row in nodes.overview()}
    assert {name: (row.apps, row.running) for name, row in rows.items()} == {"manager-1": (0, 0), "worker-1": (2, 1), "worker-2": (1, 1)}
    assert (rows["worker-1"].ready, rows["worker-2"].available, rows["manager-1"].role) == (False, False, "manager")
    assert rows["worker-1"].last_seen_at is None and rows["worker-2"].last_seen_at is not None
    assert [row.hostname for row in overview.overview().nodes] == ["manager-1", "worker-1", "worker-2"]


def test_the_collector_keeps_each_app_on_its_node_and_records_the_nodes(app_on, fake):
    app_on("alice")
    assert row_of("alice").node == "worker-1"  # from the engine when it was made
    with session_scope() as session:
        session.get(Container, row_of("alice").id).node = None
    collector = Collector(fake)
    snapshot = collector.sweep()
    assert row_of("alice").node == "worker-1"
    assert [row.hostname for row in snapshot.nodes] == ["manager-1", "worker-1", "worker-2"] and snapshot.node_changes == []

    [info] = fake.containers.values()
    fake.containers[info.id] = replace(info, node=None)  # the engine no longer says where it is
    fake.node_list = W1_DOWN
    snapshot = collector.sweep()
    assert row_of("alice").node == "worker-1"
    assert snapshot.node_changes == [nodes.NodeChange("worker-1", down=True, owners=["alice"])]
    assert [row.ready for row in snapshot.nodes] == [True, False, True]


def test_a_single_host_engine_records_no_node(app_on, fake):
    fake.node_list = []
    app_on("alice", None)
    snapshot = Collector(fake).sweep()
    assert snapshot.nodes == [] and row_of("alice").node is None
    with session_scope() as session:
        assert session.exec(select(Node)).all() == []


class NodesUnlisted(FakeRuntime):
    def nodes(self):
        raise EngineUnavailable("The manager does not answer.")


def test_an_engine_that_cannot_list_its_nodes_does_not_end_the_sweep(app_on, fake):
    app_on("alice")
    Collector(fake).sweep()
    unlisted = NodesUnlisted()
    unlisted.containers = fake.containers
    snapshot = Collector(unlisted).sweep()
    assert [c.owner for c in snapshot.containers] == ["alice"]
    assert [row.hostname for row in snapshot.nodes] == ["manager-1", "worker-1", "worker-2"] and snapshot.node_changes == []


def test_the_admin_table_shows_sorts_and_filters_by_node(app_on):
    app_on("alice"), app_on("bob", "worker-2"), app_on("carol", "manager-1")
    nodes.sync(W1_DOWN)
    page = containers.list_containers(containers.ContainerQuery(sort="node", descending=False))
    assert [(row.owner, row.node, row.node_down) for row in page.rows] == [("carol", "manager-1", False), ("alice", "worker-1", True), ("bob", "worker-2", False)]
    assert [row.owner for row in containers.list_containers(containers.ContainerQuery(sort="node", descending=True)).rows] == ["bob", "alice", "carol"]
    assert [row.owner for row in containers.list_containers(containers.ContainerQuery(node="WORKER")).rows] == ["bob", "alice"]
    assert containers.list_containers(containers.ContainerQuery(node="worker-9")).total == 0
    assert presentation.container_row(page.rows[1])["node"] == "worker-1"
    assert containers.get(page.rows[1].id).node_down


def test_the_api_filters_containers_by_node(app_on, monkeypatch):
    from fastapi.testclient import TestClient

    from saas_panel.api.app import create_api, outermost
    from saas_panel.services import api_tokens, users

    monkeypatch.setenv("PORT", "8765")
    app_on("alice"), app_on("bob", "worker-2")
    users.ensure_admin("admin password")
    token = api_tokens.create(auth.authenticate("admin", "admin password"), "ci", "read", 30).token
    response = TestClient(outermost(create_api())).get("/api/containers?node=worker-2&sort=node", headers={"Authorization": f"Bearer {token}"})
    assert [(item["owner"], item["node"], item["node_down"]) for item in response.json()["items"]] == [("bob", "worker-2", False)]


def test_the_dashboard_warns_while_the_apps_node_is_down(app_on):
    app_on("alice")
    _, token = auth.login("alice", "correct horse")
    state = state_with_token(DashboardState, token)

    def warned() -> bool:
        call(state, DashboardState.event_handlers["refresh"])
        return run(state.get_state(ContainerLive)).node_down

    assert not warned()
    nodes.sync(W1_DOWN)
    assert warned()
    nodes.sync(UP)
    assert not warned()


def test_the_collector_tells_a_watching_user_when_their_node_goes_and_comes_back(app_on, fake):
    app_on("alice"), app_on("bob")
    watching = LocalWatchers()
    watching.add("alice")
    publisher = RecordingPublisher()
    loop = CollectorLoop(Collector(fake), publisher, LocalLease(), watching, interval=0.02)

    async def scenario() -> None:
        async with running(loop):
            await until(publisher.sweeps, "a first sweep")
            fake.node_list = W1_DOWN
            await until(lambda: publisher.published("node"), "the node going down")
            fake.node_list = list(UP)
            await until(lambda: len(publisher.published("node")) == 2, "the node coming back")

    asyncio.run(scenario())
    assert publisher.published("node") == [("alice", True), ("alice", False)]  # bob has no dashboard open
    assert any(snapshot and [row.hostname for row in snapshot.nodes] == ["manager-1", "worker-1", "worker-2"] for snapshot in publisher.sweeps())


W1_DRAINED = [node("manager-1", role="manager"), node("worker-1", available=False), node("worker-2")]


def test_apps_leave_a_drained_node_with_a_note_on_their_owners_timeline(app_on, fake):
    from saas_panel.services import relocation

    app_on("ann")
    app_on("bob", "worker-2")
    fake.node_list = list(W1_DRAINED)
    rows = Collector(fake).sweep().nodes
    assert relocation.needed(rows)
    assert relocation.relocate_drained(fake) == [("ann", "running")]
    with session_scope() as session:
        assert {c.name[-3:]: c.node for c in session.exec(select(Container)).all()} == {"ann": "worker-2", "bob": "worker-2"}
    [moved] = logged("relocate_app")
    assert moved.actor == activity.SYSTEM_ACTOR and moved.target == "ann" and "worker-1" in moved.details
    assert not relocation.needed(Collector(fake).sweep().nodes)


def test_an_app_with_nowhere_to_go_stays_and_the_failure_is_logged(app_on, fake):
    from saas_panel.services import relocation

    app_on("ann")
    fake.node_list = [node("manager-1", role="manager", available=False), node("worker-1", available=False),
                      node("worker-2", ready=False)]
    assert relocation.relocate_drained(fake) == []
    [failed] = logged("relocate_app")
    assert failed.outcome == "failure"
