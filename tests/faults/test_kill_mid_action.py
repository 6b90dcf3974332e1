"""kill -9 at each step of provisioning, an account's deletion and a plan change, then recovery
(`python -m saas_panel recover`, what every backend start runs) in a fresh process: one user row,
at most one container per user, the database and the engine agreeing, and nothing left to do.

The action runs in a child process armed with SAAS_PANEL_FAULT_POINT (saas_panel/faults.py), on
this test's database and the real Docker engine; it must die at that point.
"""

from __future__ import annotations

import docker
import pytest
from sqlmodel import select

from saas_panel.db import session_scope
from saas_panel.errors import AuthenticationError, Conflict
from saas_panel.models import ActivityLog, Container, User
from saas_panel.runtime import get_runtime
from saas_panel.services import activity, auth, plans, provisioning, users
from tests.faults.helpers import NOTHING_LEFT, assert_one_running_app, containers_of, killed_at, recover
from tests.integration.test_plans import plan
from tests.integration.test_storage import NOTE, _run, _volume_exists, _write_note

pytestmark = [pytest.mark.engine, pytest.mark.faults]

PASSWORD = "correct horse"


@pytest.fixture
def admin(engine, monkeypatch) -> auth.CurrentUser:
    monkeypatch.setenv("SAAS_PANEL_BCRYPT_ROUNDS", "4")
    users.ensure_admin("admin password")
    plans.ensure_default()
    return auth.authenticate("admin", "admin password")


@pytest.fixture
def alice(admin, make_user) -> User:
    return make_user("alice", PASSWORD)


def system_logged(action: activity.Action, target: str) -> list[ActivityLog]:
    with session_scope() as session:
        return list(session.exec(select(ActivityLog).where(
            ActivityLog.action == action.value, ActivityLog.target == target, ActivityLog.actor == activity.SYSTEM_ACTOR)).all())


PROVISIONING_STEPS = {
    "provision.row_written": [],  # the engine has nothing yet
    "runtime.container_created": ["created"],
    "provision.container_started": ["running"],
}


@pytest.mark.parametrize("point", PROVISIONING_STEPS)
def test_provisioning_killed_at_any_step_ends_with_one_running_app(point, engine, alice, docker_client):
    killed_at(point, "from saas_panel.services import provisioning; provisioning.provision('alice')")
    assert [c.status for c in containers_of(docker_client, engine, "alice")] == PROVISIONING_STEPS[point]
    assert provisioning.status("alice").state == "provisioning"

    assert recover() == "provisioned: alice\n"

    assert_one_running_app(docker_client, engine, "alice")
    assert len(system_logged(activity.Action.PROVISION, "alice")) == 1
    assert recover().strip() == NOTHING_LEFT


DELETION_STEPS = ("delete.marked", "delete.container_removed", "delete.data_removed")


@pytest.mark.parametrize("point", DELETION_STEPS)
def test_a_deletion_killed_at_any_step_is_finished(point, engine, alice, docker_client):
    provisioning.provision("alice")
    volume = provisioning.data_volume(alice).name
    killed_at(point, "from saas_panel.services import users; users.delete_account('alice', actor='admin')")
    with pytest.raises(AuthenticationError):  # from the first step on, nobody can use the account
        auth.authenticate("alice", PASSWORD)

    assert recover() == "deleted: alice\n"

    with session_scope() as session:
        assert session.exec(select(User).where(User.username == "alice")).first() is None
        assert session.exec(select(Container)).all() == []
    assert containers_of(docker_client, engine, "alice") == []
    assert not _volume_exists(docker_client, volume)
    assert len(system_logged(activity.Action.DELETE_USER, "alice")) == 1
    assert recover().strip() == NOTHING_LEFT


def test_an_account_being_deleted_cannot_be_enabled_again(engine, admin, alice):
    killed_at("delete.marked", "from saas_panel.services import users; users.delete_account('alice', actor='admin')")
    with pytest.raises(Conflict, match="being deleted"):
        users.set_active(admin, alice.id, True)


PLAN_CHANGE_STEPS = {  # the plan the app is on once recovered: the old one before the commit, the new one after
    "plan_change.next_started": plans.DEFAULT_PLAN_NAME,
    "plan_change.committed": "Big",
    "plan_change.old_removed": "Big",
}


@pytest.mark.parametrize("point", PLAN_CHANGE_STEPS)
def test_a_plan_change_killed_at_any_step_is_undone_or_finished(point, engine, admin, alice, docker_client):
    provisioning.provision("alice")
    _write_note(docker_client, "alice")
    big = plan(admin, "Big", mem_limit_mb=256)
    killed_at(point, "from saas_panel.services import auth, plan_change; "
                     f"plan_change.change_plan(auth.authenticate('admin', 'admin password'), {alice.id}, {big.id})")

    recover()

    container = assert_one_running_app(docker_client, engine, "alice")
    limits = plans.limits_for("alice")
    assert limits.plan_name == PLAN_CHANGE_STEPS[point]
    assert container.attrs["HostConfig"]["Memory"] == limits.mem_limit_mb * plans.MB
    assert _run(docker_client, "alice", f"cat {NOTE}") == "kept by 65534\n"
    assert recover().strip() == NOTHING_LEFT


def test_a_move_to_another_storage_size_killed_with_the_old_app_stopped_gets_it_back(engine, admin, alice, docker_client):
    """Where storage is capped, the old app is stopped while its volume is resized: undone, it runs
    again on a volume of its plan's size."""
    provisioning.provision("alice")
    if not get_runtime().storage_enforced:
        pytest.skip("this engine does not cap storage, so a move never stops the old app")  # the test above covers the rest
    _write_note(docker_client, "alice")
    bigger = plan(admin, "Bigger", storage_mb=plans.limits_for("alice").storage_mb * 2)
    killed_at("plan_change.next_started", "from saas_panel.services import auth, plan_change; "
                                          f"plan_change.change_plan(auth.authenticate('admin', 'admin password'), {alice.id}, {bigger.id})")

    recover()

    assert_one_running_app(docker_client, engine, "alice")
    assert plans.limits_for("alice").plan_name == plans.DEFAULT_PLAN_NAME
    size_kib = int(_run(docker_client, "alice", "df -k /data | tail -n1 | awk '{print $2}'"))
    assert size_kib < plans.limits_for("alice").storage_mb * 1024 * 1.5  # not the doubled size
    assert _run(docker_client, "alice", f"cat {NOTE}") == "kept by 65534\n"


def test_a_container_found_without_its_row_is_adopted(engine, alice, docker_client):
    """As after restoring a database backup older than the container."""
    provisioning.provision("alice")
    with session_scope() as session:
        session.delete(session.exec(select(Container)).one())

    assert recover() == "adopted: alice\n"

    assert_one_running_app(docker_client, engine, "alice")
    assert recover().strip() == NOTHING_LEFT


def test_a_container_whose_owner_is_gone_is_removed(engine, alice, make_user, docker_client):
    provisioning.provision("alice")
    name = provisioning.container_name("alice")
    with session_scope() as session:
        session.delete(session.exec(select(Container)).one())
        session.delete(session.get(User, alice.id))

    assert recover() == f"removed: {name}\n"

    with pytest.raises(docker.errors.NotFound):
        docker_client.containers.get(name)
    assert recover().strip() == NOTHING_LEFT
