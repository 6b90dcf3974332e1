"""Admin event handlers are public: each must check the role itself.

Every handler of every admin state is declared with @admin_event, and is
called as a forged event from a normal user's session, with arguments aimed at
another account and its container: nothing may change, nothing may be shown,
and each refusal is logged.
"""

from __future__ import annotations

import inspect

import pytest
from sqlmodel import func, select

from saas_panel.db import session_scope
from saas_panel.models import ActivityLog, AlertRule, ApiToken, Container, Node, Plan, User
from saas_panel.services import alert_rules, api_tokens, auth, plans, users
from saas_panel.state.admin import ActivityState, AlertsState, ContainersState, OverviewState, PlansState, TokensState, UsersState
from saas_panel.state.admin.base import is_admin_event
from saas_panel.state.admin.table import TableState
from saas_panel.state.auth import AuthState
from tests.handlers import admin_handlers, admin_states, call, forged_args, run, state_with_token


def _snapshot(victim_id: int) -> tuple:
    with session_scope() as session:
        victim = session.get(User, victim_id)
        return (
            session.exec(select(func.count()).select_from(User)).one(),
            session.exec(select(func.count()).select_from(Container)).one(),
            (victim.is_active, victim.role, victim.password_hash, victim.mem_limit_mb, victim.cpu_limit, victim.plan_id),
            session.exec(select(func.count()).select_from(ActivityLog).where(ActivityLog.outcome != "denied")).one(),
            [(t.id, t.revoked_at) for t in session.exec(select(ApiToken)).all()],
            [plan.model_dump(exclude={"created_at"}) for plan in session.exec(select(Plan).order_by(Plan.id)).all()],
            [rule.model_dump() for rule in session.exec(select(AlertRule).order_by(AlertRule.id)).all()],
        )


@pytest.fixture
def victim_with_container(make_user):
    users.ensure_admin("admin password")
    admin = auth.authenticate("admin", "admin password")
    api_tokens.create(admin, "ci", "admin", 30)
    victim = make_user("victim", "password one")
    plans.ensure_default()
    alert_rules.create_rule(admin, alert_rules.RuleInput(name="watch", metric="memory", threshold=90, webhook_url="https://hooks.example/x"))
    with session_scope() as session:
        row = Container(user_id=victim.id, name="t-victim", image="img", state="running")
        session.add(row)
        session.add(Plan(name="Small", image="img", cpu_limit=0.5, mem_limit_mb=256, storage_mb=512))  # a forger's target
        session.add(Node(hostname="worker-1", address="10.0.0.2"))  # the overview would show it
        session.flush()
        container_id = row.id
    return victim, container_id


def _small_plan_id() -> int:
    with session_scope() as session:
        return session.exec(select(Plan.id).where(Plan.name == "Small")).one()


def test_every_admin_handler_refuses_a_user_session(make_user, victim_with_container):
    victim, container_id = victim_with_container
    make_user("mallory", "password one")
    _, token = auth.login("mallory", "password one")
    before = _snapshot(victim.id)
    with session_scope() as session:
        token_id = session.exec(select(ApiToken.id)).one()
    with session_scope() as session:
        rule_id = session.exec(select(AlertRule.id)).one()
    forged = forged_args(victim.id, container_id, token_id, _small_plan_id(), rule_id)
    calls = 0
    states = admin_states()
    assert {OverviewState, UsersState, ContainersState, ActivityState, TokensState, PlansState, AlertsState} <= set(states)

    for state_cls in states:
        handlers = admin_handlers(state_cls)
        assert "load" in handlers, state_cls.__name__
        if issubclass(state_cls, TableState):  # the shared table handlers are copied into each screen
            assert {"set_search", "set_filter", "sort_by", "go_to_page"} <= set(handlers), state_cls.__name__
        for name, handler in handlers.items():
            label = f"{state_cls.__name__}.{name}"
            assert is_admin_event(handler.fn), f"{label} is not an @admin_event"
            params = [p for p in inspect.signature(handler.fn).parameters if p != "self"]
            assert "admin" not in params, f"{label} lets a client send the admin"
            state = state_with_token(state_cls, token)
            if state_cls is ContainersState:
                state.selected = [container_id]  # a client can `setvar` this
            if state_cls is UsersState:
                state.limits_user = state.plan_user = {"id": victim.id, "username": "victim"}
            if state_cls is PlansState:
                state.editing_id = _small_plan_id()
            if state_cls is AlertsState:
                state.editing_id = rule_id
            call(state, handler, **{p: forged[p] for p in params})
            calls += 1
            assert getattr(state, "rows", []) == [], f"{label} leaked rows"
            assert getattr(state, "one_time_password", "") == "", f"{label} leaked a password"
            assert getattr(state, "new_token", "") == "", f"{label} leaked a token"
            assert getattr(state, "detail", {}) == {}, f"{label} leaked container detail"
            assert getattr(state, "users_total", 0) == 0 and getattr(state, "recent", []) == [], f"{label} leaked numbers"
            assert getattr(state, "nodes", []) == [], f"{label} leaked the nodes"
            assert getattr(state, "draft", {}) == {} and getattr(state, "images", []) == [], f"{label} leaked a plan"
            assert getattr(state, "plan_choices", []) == [], f"{label} leaked the plans"
            assert getattr(state, "rules", []) == [] and getattr(state, "alerts", []) == [] and getattr(state, "firing", []) == [], f"{label} leaked the alerts"

    assert calls >= 35
    assert _snapshot(victim.id) == before
    with session_scope() as session:
        denied = session.exec(select(ActivityLog.action).where(ActivityLog.outcome == "denied", ActivityLog.actor == "mallory")).all()
    # Every refused action is logged, once a minute per action (a user cannot flood the log).
    assert len(denied) == len(set(denied)) >= 8


def _admin_state(state_cls):
    _, token = auth.login("admin", "admin password")
    return state_with_token(state_cls, token)


def test_admin_handlers_work_for_an_admin(victim_with_container):
    victim, _ = victim_with_container
    state = _admin_state(UsersState)
    call(state, UsersState.event_handlers["load"])
    assert {row["username"] for row in state.rows} == {"admin", "victim"}
    call(state, UsersState.event_handlers["set_search"], value="VICT")
    assert [row["username"] for row in state.rows] == ["victim"]
    call(state, UsersState.event_handlers["set_role"], user_id=victim.id, role="admin")
    assert state.rows[0]["role"] == "admin"

    overview = _admin_state(OverviewState)
    call(overview, OverviewState.event_handlers["load"])
    assert overview.users_total == 2 and dict(map(tuple, overview.containers))["running"] == 1
    assert [(node["hostname"], node["ready"], node["apps"]) for node in overview.nodes] == [("worker-1", True, 0)]

    log = _admin_state(ActivityState)
    call(log, ActivityState.event_handlers["set_filter"], name="action", value="promote_user")
    assert [(r["actor"], r["target"]) for r in log.rows] == [("admin", "victim")]


def test_reset_password_shows_it_once_and_ends_sessions(victim_with_container):
    victim, _ = victim_with_container
    _, victim_token = auth.login("victim", "password one")
    state = _admin_state(UsersState)
    call(state, UsersState.event_handlers["load"])
    call(state, UsersState.event_handlers["reset_password"], user_id=victim.id)
    assert state.one_time_password_user == "victim"  # the password itself: tests/unit/test_secrets_at_rest.py
    assert auth.resolve_session(victim_token) is None


def test_activity_export_downloads_the_filtered_csv(victim_with_container):
    state = _admin_state(ActivityState)
    call(state, ActivityState.event_handlers["set_filter"], name="actor", value="victim")
    updates = call(state, ActivityState.event_handlers["export_csv"])
    download = str(updates[-1])
    assert "download" in download.lower() and "activity-" in download


def test_a_client_cannot_send_the_admin_a_handler_acts_as(victim_with_container, make_user):
    victim, _ = victim_with_container
    mallory = make_user("mallory", "password one")
    state = _admin_state(UsersState)
    with pytest.raises(TypeError):
        call(state, UsersState.event_handlers["set_role"], admin=mallory, user_id=victim.id, role="admin")
    assert users.search_users(users.UserQuery(search="victim")).rows[0].role == "user"


def test_a_domain_error_becomes_a_toast_and_the_busy_flag_is_cleared(victim_with_container):
    state = _admin_state(UsersState)
    call(state, UsersState.event_handlers["load"])
    admin_id = next(row["id"] for row in state.rows if row["username"] == "admin")
    updates = call(state, UsersState.event_handlers["set_role"], user_id=admin_id, role="user")
    assert "You cannot demote your own account." in str(updates[-1]) and "toast" in str(updates[-1])
    assert state.pending == "" and auth.resolve_session(state.session_token).is_admin


def _step_by_step(state, handler, **kwargs) -> tuple[tuple, list]:
    """(limits_open, pending) after the handler's first update, and the updates after it."""

    async def steps():
        updates = handler.fn(state, **kwargs)
        await updates.__anext__()
        return (getattr(state, "limits_open", None), state.pending), [update async for update in updates]

    return run(steps())


def test_the_busy_flag_is_set_while_a_change_runs(victim_with_container):
    victim, _ = victim_with_container
    state = _admin_state(UsersState)
    call(state, UsersState.event_handlers["load"])
    first, rest = _step_by_step(state, UsersState.event_handlers["set_idle_exempt"], user_id=victim.id, exempt=True)
    assert first[1] == f"idle:{victim.id}" and state.pending == ""
    assert "Never stopped when idle." in str(rest) and users.search_users(users.UserQuery(search="victim")).rows[0].idle_exempt


def test_saving_limits_closes_the_dialog_before_they_apply(victim_with_container, make_user):
    walt = make_user("walt", "password one")  # no container: nothing for the engine to do
    state = _admin_state(UsersState)
    call(state, UsersState.event_handlers["load"])
    call(state, UsersState.event_handlers["open_limits"], user_id=walt.id)
    assert state.limits_open
    first, rest = _step_by_step(state, UsersState.event_handlers["save_limits"], form_data={"mem_limit_mb": "256", "cpu_limit": ""})
    assert first == (False, f"limits:{walt.id}") and state.pending == ""
    assert "Limits saved" in str(rest) and users.search_users(users.UserQuery(search="walt")).rows[0].mem_limit_mb == 256


def test_a_dialog_shows_its_own_error_instead_of_a_toast(victim_with_container):
    state = _admin_state(UsersState)
    form = {"username": "victim", "email": "other@example.com", "password": "a long password", "role": "user"}
    updates = call(state, UsersState.event_handlers["create_user"], form_data=form)
    assert state.create_error and "toast" not in str(updates) and state.pending == ""
    call(state, UsersState.event_handlers["open_create"], open_=True)
    assert state.create_open and state.create_error == ""


def test_every_admin_page_is_guarded_and_in_the_sub_navigation():
    from saas_panel.pages.admin import ADMIN_SCREENS
    from saas_panel.saas_panel import app

    assert [screen.route for screen in ADMIN_SCREENS] == ["/admin", "/admin/users", "/admin/plans", "/admin/containers", "/admin/activity", "/admin/alerts", "/admin/tokens"]
    for screen in ADMIN_SCREENS:
        page = app._unevaluated_pages[screen.route.strip("/")]
        assert page.on_load[0] == AuthState.require_admin_page, screen.route
        assert f"admin-nav-{screen.key}" in str(page.component().render())


@pytest.mark.parametrize("token", ["", "not-a-real-token"])
def test_admin_page_guard_sends_strangers_to_login(db, token):
    state = state_with_token(AuthState, token)
    result = call(state, AuthState.event_handlers["require_admin_page"])
    assert "/login" in str(result)


def test_alert_rules_from_the_alerts_screen_and_firing_alerts_on_the_overview(victim_with_container):
    from saas_panel.services import alerts
    from tests.unit.test_alerts import snapshot_of

    state = _admin_state(AlertsState)
    form = {"name": "victim memory", "metric": "memory", "threshold": "50", "for_seconds": "0", "scope": "user", "scope_target": "victim"}
    call(state, AlertsState.event_handlers["create_rule"], form_data=form)
    assert [row["condition"] for row in state.rules if row["name"] == "victim memory"] == ["memory > 50%"]
    call(state, AlertsState.event_handlers["create_rule"], form_data=form | {"threshold": "500"})
    assert "between" in state.create_error  # shown in the dialog, which stays open
    alerts.evaluate_sweep(alerts.Evaluator.from_database(), snapshot_of(victim=0.75))

    overview = _admin_state(OverviewState)
    call(overview, OverviewState.event_handlers["load"])
    assert [(row["rule"], row["username"], row["condition"]) for row in overview.firing] == [("victim memory", "victim", "memory 75% > 50%")]
    rule_id = next(row["id"] for row in state.rules if row["name"] == "victim memory")
    call(state, AlertsState.event_handlers["delete_rule"], rule_id=rule_id)
    call(overview, OverviewState.event_handlers["load"])
    assert overview.firing == [] and "victim memory" not in [row["name"] for row in state.rules]
