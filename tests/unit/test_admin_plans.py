"""The admin's plans screen and the users table's plan change, driven through their states on the in-memory engine."""

from __future__ import annotations

import pytest
from sqlmodel import select

from saas_panel import runtime
from saas_panel.config import get_settings
from saas_panel.db import session_scope
from saas_panel.errors import EngineUnavailable
from saas_panel.models import ActivityLog, User
from saas_panel.services import auth, image_check, plans, provisioning, users
from saas_panel.state.admin import PlansState, UsersState
from saas_panel.state.admin.plans import OTHER_IMAGE
from tests.handlers import call, run, state_with_token
from tests.mocking import AddresslessRuntime

SMALL_FORM = {"name": "Small", "cpu_limit": "0.5", "mem_limit_mb": "256", "storage_mb": "512", "idle_stop_minutes": ""}


@pytest.fixture
def engine(monkeypatch):
    fake = AddresslessRuntime()
    fake.images.add("other/app:2")
    monkeypatch.setattr(runtime, "_shared", fake)
    monkeypatch.setattr(image_check, "STAYS_UP_S", 0)
    monkeypatch.setattr(provisioning, "EVENT_TRAIL_S", 0.0)
    return fake


@pytest.fixture
def admin_token(db, engine, monkeypatch):
    monkeypatch.setenv("SAAS_PANEL_BCRYPT_ROUNDS", "4")
    users.ensure_admin("admin password")
    plans.ensure_default()
    return auth.login("admin", "admin password")[1]


def _handle(state, handler: str, **kwargs):
    return call(state, type(state).event_handlers[handler], **kwargs)


@pytest.fixture
def screen(admin_token):
    state = state_with_token(PlansState, admin_token)
    _handle(state, "load")
    return state


def _row(state, name: str) -> dict:
    return next(row for row in state.rows if row["name"] == name)


def _create_small(screen, **form) -> list:
    _handle(screen, "open_create", open_=True)
    return _handle(screen, "create_plan", form_data={**SMALL_FORM, "image": get_settings().user_image, **form})


def test_the_table_shows_the_default_plan_with_its_users(screen, make_user):
    make_user("alice")
    _handle(screen, "load")
    [row] = screen.rows
    assert (row["name"], row["is_default"], row["users"]) == (plans.DEFAULT_PLAN_NAME, True, 2)  # admin and alice
    assert (row["cpu_limit"], row["storage_mb"], row["idle_stop_minutes"]) == (f"{get_settings().default_cpu_limit:g} CPU", f"{get_settings().default_storage_mb} MB", "panel's setting")
    assert screen.loaded


def test_a_new_plan_starts_as_the_default_unnamed_with_the_engines_images(screen):
    _handle(screen, "open_create", open_=True)
    assert screen.create_open and screen.draft["name"] == "" and screen.editing_id == 0
    assert screen.draft["storage_mb"] == str(get_settings().default_storage_mb)
    assert screen.images == sorted([get_settings().user_image, "other/app:2"])
    assert screen.image_choice == get_settings().user_image


def test_creating_a_plan_checks_its_image_and_lists_it(screen, engine):
    updates = _create_small(screen)
    assert "Plan Small created." in str(updates) and not screen.create_open
    row = _row(screen, "Small")
    assert (row["image"], row["mem_limit_mb"], row["is_default"], row["users"]) == (get_settings().user_image, "256 MB", False, 0)
    assert not [info for info in engine.containers.values()]  # the trial container is gone


def test_a_typed_image_missing_from_the_engine_is_shown_on_the_image_field(screen):
    updates = _create_small(screen, image=OTHER_IMAGE, image_other="nowhere/missing:1")
    assert "not on the engine" in screen.field_errors["image"]
    assert screen.create_open and screen.form_error == "" and "toast" not in str(updates) and screen.pending == ""
    assert [row["name"] for row in screen.rows] == [plans.DEFAULT_PLAN_NAME]


@pytest.mark.parametrize(("change", "field"), [({"name": plans.DEFAULT_PLAN_NAME}, "name"), ({"cpu_limit": "lots"}, "cpu_limit"),
                                               ({"mem_limit_mb": "1"}, "mem_limit_mb"), ({"idle_stop_minutes": "-1"}, "idle_stop_minutes")])
def test_each_mistake_is_shown_on_its_field(screen, change, field):
    _create_small(screen, **change)
    assert list(screen.field_errors) == [field] and screen.create_open


def test_editing_keeps_the_form_on_a_storage_below_a_members_usage(screen, make_user):
    _create_small(screen)
    small_id = _row(screen, "Small")["id"]
    alice = make_user("alice")
    with session_scope() as session:
        user = session.get(User, alice.id)
        user.plan_id, user.storage_used_bytes = small_id, 300 * plans.MB
    _handle(screen, "open_edit", plan_id=small_id)
    assert (screen.edit_open, screen.editing_id, screen.draft["name"], screen.draft["cpu_limit"]) == (True, small_id, "Small", "0.5")
    form = {**screen.draft, "image": screen.image_choice}
    _handle(screen, "update_plan", form_data={**form, "storage_mb": "200"})
    assert "300 MB" in screen.field_errors["storage_mb"] and screen.edit_open
    updates = _handle(screen, "update_plan", form_data={**form, "storage_mb": "400", "image": "other/app:2"})
    assert "Plan Small saved" in str(updates) and not screen.edit_open
    assert (_row(screen, "Small")["storage_mb"], _row(screen, "Small")["image"], _row(screen, "Small")["is_default"]) == ("400 MB", "other/app:2", False)


def test_make_default_moves_the_badge(screen):
    _create_small(screen)
    updates = _handle(screen, "make_default", plan_id=_row(screen, "Small")["id"])
    assert "Small is now the default plan." in str(updates)
    assert {row["name"]: row["is_default"] for row in screen.rows} == {"Small": True, plans.DEFAULT_PLAN_NAME: False}


def test_an_engine_that_cannot_list_its_images_leaves_the_image_to_type(screen, engine, monkeypatch):
    def down():
        raise EngineUnavailable("The container engine is not reachable.")

    monkeypatch.setattr(engine, "list_images", down)
    _handle(screen, "open_create", open_=True)
    assert screen.images == [] and "not reachable" in screen.images_error and screen.image_choice == OTHER_IMAGE
    _handle(screen, "create_plan", form_data={**SMALL_FORM, "image": OTHER_IMAGE, "image_other": get_settings().user_image})
    assert _row(screen, "Small")["image"] == get_settings().user_image


# --- the users table's plan change -------------------------------------------


@pytest.fixture
def people(admin_token, screen, make_user):
    """alice with a running app, on the default plan; plan Small made."""
    _create_small(screen)
    make_user("alice")
    provisioning.provision("alice")
    state = state_with_token(UsersState, admin_token)
    _handle(state, "load")
    return state


def _user(state, username: str) -> dict:
    return next(row for row in state.rows if row["username"] == username)


def test_the_users_table_offers_the_plans_and_shows_each_users(people):
    assert [name for _, name in people.plan_choices] == ["Small", plans.DEFAULT_PLAN_NAME]
    assert people.plan_filter_options[0] == ["all", "Any plan"] and ["Small", "Small"] in people.plan_filter_options
    assert _user(people, "alice")["plan"] == plans.DEFAULT_PLAN_NAME
    assert _user(people, "alice")["storage_used_bytes"] == "—"  # not measured yet
    _handle(people, "set_filter", name="plan", value="Small")
    assert people.rows == []


def test_changing_a_plan_closes_the_dialog_spins_and_says_what_happened(people):
    alice_id = _user(people, "alice")["id"]
    _handle(people, "open_plan_change", user_id=alice_id)
    default_id = next(plan_id for plan_id, name in people.plan_choices if name == plans.DEFAULT_PLAN_NAME)
    small_id = next(plan_id for plan_id, name in people.plan_choices if name == "Small")
    assert people.plan_open and people.plan_choice == default_id

    async def steps():
        updates = UsersState.event_handlers["change_plan"].fn(people, form_data={"plan_id": small_id})
        await updates.__anext__()
        return (people.plan_open, people.pending), [update async for update in updates]

    first, rest = run(steps())
    assert first == (False, f"plan:{alice_id}") and people.pending == ""
    assert "alice is now on Small; their app was recreated on it." in str(rest)
    assert _user(people, "alice")["plan"] == "Small"
    with session_scope() as session:
        assert session.exec(select(ActivityLog.outcome).where(ActivityLog.action == "change_plan")).all() == ["success"]


@pytest.mark.parametrize("plan_id", ["", "abc", "1" * 20])
def test_no_plan_chosen_is_an_error_toast_and_changes_nothing(people, plan_id):
    _handle(people, "open_plan_change", user_id=_user(people, "alice")["id"])
    updates = _handle(people, "change_plan", form_data={"plan_id": plan_id})
    assert "Choose a plan." in str(updates) and "toast" in str(updates) and people.pending == ""
    assert _user(people, "alice")["plan"] == plans.DEFAULT_PLAN_NAME
