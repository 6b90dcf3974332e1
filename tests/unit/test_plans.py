"""Plans and moving a user between them, on the real database with an in-memory engine.

What a move does to a real container and its files is tested in tests/integration/test_plans.py.
"""

from __future__ import annotations

import threading

import pytest
from sqlmodel import select

from saas_panel import runtime
from saas_panel.db import session_scope
from saas_panel.errors import Conflict, EngineError, QuotaBelowUsage, ValidationError
from saas_panel.models import ActivityLog, Container, User
from saas_panel.services import activity, auth, image_check, plan_change, plans, provisioning, users
from tests.mocking import AddresslessRuntime

WAIT_S = 30  # only a bound on a hung test, never a timing assertion
APP_IMAGE = "example/app:2"
MB = plans.MB


class Engine(AddresslessRuntime):
    """An engine holding APP_IMAGE too; containers of an image in `silent` exit as soon as they start."""

    def __init__(self):
        super().__init__()
        self.images.add(APP_IMAGE)
        self.silent: set[str] = set()

    def create(self, spec):
        info = super().create(spec)
        return self.stop(info.id) if spec.image in self.silent else info


@pytest.fixture(autouse=True)
def engine(monkeypatch) -> Engine:
    engine = Engine()
    monkeypatch.setattr(runtime, "_shared", engine)
    monkeypatch.setattr(image_check, "STAYS_UP_S", 0)  # a container that started answers, unless it exits
    monkeypatch.setattr(provisioning, "EVENT_TRAIL_S", 0.0)
    return engine


@pytest.fixture
def admin(make_user, monkeypatch) -> auth.CurrentUser:
    monkeypatch.setenv("SAAS_PANEL_BCRYPT_ROUNDS", "4")
    users.ensure_admin("admin password")
    return auth.authenticate("admin", "admin password")


def plan_input(name: str = "Big", **overrides) -> plans.PlanInput:
    values = dict(name=name, image=APP_IMAGE, cpu_limit="1.5", mem_limit_mb="512", storage_mb="2048", idle_stop_minutes="")
    return plans.PlanInput(**{**values, **overrides})


def default_id() -> int:
    with session_scope() as session:
        return plans.default_plan(session).id


def logged(action: str) -> list[ActivityLog]:
    with session_scope() as session:
        return list(session.exec(select(ActivityLog).where(ActivityLog.action == action).order_by(ActivityLog.id)).all())


def set_usage(username: str, used_bytes: int) -> None:
    with session_scope() as session:
        session.exec(select(User).where(User.username == username)).one().storage_used_bytes = used_bytes


def row_of(username: str) -> Container:
    return provisioning.user_and_row(username)[1]


# --- the default plan ---------------------------------------------------------


@pytest.fixture
def settings_plan(monkeypatch):
    """Settings that differ from the built-in ones, so the default plan shows where it came from."""
    monkeypatch.setenv("SAAS_PANEL_USER_IMAGE", APP_IMAGE)
    monkeypatch.setenv("SAAS_PANEL_DEFAULT_MEM_MB", "256")
    monkeypatch.setenv("SAAS_PANEL_DEFAULT_CPUS", "0.75")
    monkeypatch.setenv("SAAS_PANEL_DEFAULT_STORAGE_MB", "300")


def test_the_default_plan_is_made_from_the_settings_once(db, settings_plan):
    plans.ensure_default()
    plans.ensure_default()
    [plan] = plans.list_plans()
    assert (plan.name, plan.image, plan.mem_limit_mb, plan.cpu_limit, plan.storage_mb) == ("Standard", APP_IMAGE, 256, 0.75, 300)
    assert (plan.idle_stop_minutes, plan.is_default) == (None, True)
    [made] = logged("create_plan")
    assert (made.actor, made.target, made.target_id) == ("system", "Standard", None)


def test_concurrent_starts_make_one_default_plan(db):
    start = threading.Barrier(8)
    errors = []

    def ensure() -> None:
        start.wait(WAIT_S)
        try:
            plans.ensure_default()
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    workers = [threading.Thread(target=ensure) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(WAIT_S)
    assert errors == []
    assert len(plans.list_plans()) == 1
    assert len(logged("create_plan")) == 1


def test_a_new_user_gets_the_default_plans_image_limits_and_storage(make_user, settings_plan, engine, monkeypatch):
    monkeypatch.setenv("SAAS_PANEL_BCRYPT_ROUNDS", "4")
    alice = make_user("alice", "password one")
    view = provisioning.provision("alice")
    info = engine.inspect(view.engine_id)
    assert (info.image, info.mem_limit_bytes, info.cpu_limit) == (APP_IMAGE, 256 * MB, 0.75)
    assert engine.volume_sizes[provisioning.data_volume(alice).name] == 300
    assert plans.limits_for("alice").plan_name == "Standard"


def test_per_user_memory_and_cpu_win_over_the_plans(admin, make_user):
    alice = make_user("alice", "password one")
    users.set_limits(admin, alice.id, "640", "2")
    limits = plans.limits_for("alice")
    assert (limits.mem_limit_mb, limits.cpu_limit) == (640, 2.0)
    assert (limits.image, limits.storage_mb) == (plans.get_plan(default_id()).image, plans.get_plan(default_id()).storage_mb)


# --- creating and changing plans ----------------------------------------------


@pytest.mark.parametrize(("overrides", "field"), [
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "x" * 200}, "name"),
    ({"name": "bad\x00name"}, "name"),
    ({"name": "right\u202eto left"}, "name"),
    ({"name": "Standard"}, "name"),  # the default plan's
    ({"name": "Standard", "is_default": True}, "name"),
    ({"image": ""}, "image"),
    ({"image": "two words"}, "image"),
    ({"image": "\u00b0"}, "image"),  # not an image reference: the engine would answer 400
    ({"image": "Upper/Case:1"}, "image"),
    ({"image": "absent/image:1"}, "image"),
    ({"cpu_limit": "0"}, "cpu_limit"),
    ({"cpu_limit": "lots"}, "cpu_limit"),
    ({"cpu_limit": None}, "cpu_limit"),
    ({"mem_limit_mb": "16"}, "mem_limit_mb"),
    ({"mem_limit_mb": "1e3"}, "mem_limit_mb"),
    ({"storage_mb": "12.5"}, "storage_mb"),
    ({"storage_mb": 10**9}, "storage_mb"),
    ({"idle_stop_minutes": "-1"}, "idle_stop_minutes"),
    ({"idle_stop_minutes": "soon"}, "idle_stop_minutes"),
])
def test_a_plan_with_a_bad_value_is_refused_on_its_field(admin, overrides, field):
    plans.ensure_default()
    with pytest.raises(ValidationError) as refused:
        plans.create_plan(admin, plan_input(**overrides))
    assert refused.value.field == field
    assert [plan.name for plan in plans.list_plans()] == ["Standard"]
    assert logged("create_plan")[-1].actor == "system"


def test_an_image_that_does_not_answer_is_refused_and_its_probe_removed(admin, engine):
    engine.silent.add(APP_IMAGE)
    with pytest.raises(ValidationError, match="does not give a working app") as refused:
        plans.create_plan(admin, plan_input())
    assert refused.value.field == "image"
    assert engine.containers == {}


def test_a_plan_is_saved_with_its_values_and_recorded(admin, make_user, engine):
    make_user("gold", "password one")  # a plan named like an account is still not that account's history
    made = plans.create_plan(admin, plan_input("gold", idle_stop_minutes="15"))
    assert (made.image, made.cpu_limit, made.mem_limit_mb, made.storage_mb, made.idle_stop_minutes) == (APP_IMAGE, 1.5, 512, 2048, 15)
    assert engine.containers == {}  # the image's probe is gone
    plans.update_plan(admin, made.id, plan_input("gold", storage_mb="4096", idle_stop_minutes="0"))
    assert (plans.get_plan(made.id).storage_mb, plans.get_plan(made.id).idle_stop_minutes) == (4096, 0)

    [created], [updated] = logged("create_plan")[-1:], logged("update_plan")
    assert (created.actor, created.target, created.target_id) == ("admin", "gold", None)
    assert "2048 MB storage" in created.details and "idle stop 15 min" in created.details
    assert (updated.actor, updated.target, updated.target_id) == ("admin", "gold", None)
    assert "4096 MB storage" in updated.details
    assert not {"create_plan", "update_plan"} & {row.action for row in activity.timeline("gold")}


@pytest.mark.parametrize("made_default_by", ["create", "update"])
def test_one_plan_is_the_default_after_making_another_the_default(admin, made_default_by):
    plans.ensure_default()
    if made_default_by == "create":
        new = plans.create_plan(admin, plan_input(is_default=True))
    else:
        new = plans.update_plan(admin, plans.create_plan(admin, plan_input()).id, plan_input(is_default=True))
    assert [plan.name for plan in plans.list_plans() if plan.is_default] == ["Big"]
    assert plans.get_plan(new.id).is_default


def test_the_default_plan_cannot_be_undefaulted(admin):
    plans.ensure_default()
    standard = plans.get_plan(default_id())
    with pytest.raises(Conflict):
        plans.update_plan(admin, standard.id, plan_input("Standard", is_default=False))
    assert plans.get_plan(standard.id) == standard
    assert logged("update_plan") == []


@pytest.mark.parametrize("member", ["on the plan", "without a plan, on the default"])
def test_a_storage_size_below_a_members_usage_is_refused(admin, make_user, member):
    make_user("alice", "password one")
    plan = plans.get_plan(default_id()) if "default" in member else plans.create_plan(admin, plan_input())
    if "default" not in member:
        plan_change.change_plan(admin, plans.user_plan("alice").user_id, plan.id)
    plan = plans.get_plan(plan.id)
    set_usage("alice", 300 * MB)
    with pytest.raises(QuotaBelowUsage) as refused:
        plans.update_plan(admin, plan.id, plan_input(plan.name, image=plan.image, storage_mb="200", is_default=plan.is_default))
    assert refused.value.field == "storage_mb"
    assert plans.get_plan(plan.id) == plan
    assert logged("update_plan") == []


def test_each_plan_counts_its_users_and_the_default_those_without_one(admin, make_user):
    big = plans.create_plan(admin, plan_input())
    plans.create_plan(admin, plan_input("Empty"))
    for name in ("alice", "bob", "carol"):
        make_user(name, "password one")
    for name in ("bob", "carol"):
        plan_change.change_plan(admin, plans.user_plan(name).user_id, big.id)
    counts = {plan.name: plan.users for plan in plans.list_plans()}
    assert counts == {"Big": 2, "Empty": 0, "Standard": 2}  # alice and the admin, an account without a plan too


# --- moving a user to another plan --------------------------------------------


@pytest.fixture
def alice(admin, make_user) -> User:
    return make_user("alice", "password one")


def test_a_move_recreates_the_app_on_the_new_plan(admin, alice, engine):
    old = provisioning.provision("alice")
    big = plans.create_plan(admin, plan_input())

    message = plan_change.change_plan(admin, alice.id, big.id)

    assert "now on Big" in message
    [info] = engine.containers.values()
    assert (info.name, info.state, info.image) == (old.name, "running", APP_IMAGE)
    assert info.id != old.engine_id
    assert (info.mem_limit_bytes, info.cpu_limit) == (512 * MB, 1.5)
    assert engine.volume_sizes[provisioning.data_volume(alice).name] == 2048
    row = row_of("alice")
    assert (row.name, row.engine_id, row.state, row.image) == (old.name, info.id, "running", APP_IMAGE)
    assert plans.limits_for("alice").plan_name == "Big"
    [moved] = logged("change_plan")
    assert (moved.actor, moved.target, moved.outcome, moved.details) == ("admin", "alice", "success", "Standard -> Big")
    assert "change_plan" in {entry.action for entry in activity.timeline("alice")}


@pytest.mark.parametrize("storage_mb", ["2048", "512"], ids=["larger storage", "smaller storage"])
def test_a_new_container_that_does_not_answer_leaves_the_old_one_running(admin, alice, engine, storage_mb):
    old = provisioning.provision("alice")
    broken = plans.create_plan(admin, plan_input(storage_mb=storage_mb))
    engine.silent.add(APP_IMAGE)  # the image stopped working after the plan was saved

    with pytest.raises(EngineError, match="stays on its old plan"):
        plan_change.change_plan(admin, alice.id, broken.id)

    [info] = engine.containers.values()
    assert (info.id, info.name, info.state) == (old.engine_id, old.name, "running")
    assert engine.volume_sizes[provisioning.data_volume(alice).name] == plans.get_plan(default_id()).storage_mb
    assert row_of("alice").engine_id == old.engine_id
    assert plans.limits_for("alice").plan_name == "Standard"
    [failed] = logged("change_plan")
    assert (failed.outcome, failed.target) == ("failure", "alice")
    assert failed.details.startswith("Standard -> Big: ")


def test_a_stopped_app_stays_stopped_after_a_move(admin, alice, engine):
    provisioning.provision("alice")
    provisioning.control("alice", "stop", actor="alice")
    big = plans.create_plan(admin, plan_input())

    plan_change.change_plan(admin, alice.id, big.id)

    [info] = engine.containers.values()
    assert (info.state, info.image) == ("exited", APP_IMAGE)
    assert (row_of("alice").state, row_of("alice").engine_id) == ("stopped", info.id)


def test_a_user_without_a_container_just_gets_the_plan(admin, alice, engine):
    big = plans.create_plan(admin, plan_input())
    assert "their next container uses it" in plan_change.change_plan(admin, alice.id, big.id)
    assert engine.containers == {}
    assert plans.limits_for("alice").plan_name == "Big"

    view = provisioning.provision("alice")
    assert engine.inspect(view.engine_id).mem_limit_bytes == 512 * MB


def test_a_move_to_a_plan_smaller_than_the_files_is_refused(admin, alice, engine):
    old = provisioning.provision("alice")
    small = plans.create_plan(admin, plan_input(storage_mb="200"))
    set_usage("alice", 300 * MB)

    with pytest.raises(QuotaBelowUsage):
        plan_change.change_plan(admin, alice.id, small.id)

    assert [info.id for info in engine.containers.values()] == [old.engine_id]
    assert plans.limits_for("alice").plan_name == "Standard"
