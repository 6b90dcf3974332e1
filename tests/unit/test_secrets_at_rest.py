"""Raw API tokens, one-time passwords and webhook secrets never enter the Reflex state store.

Reflex pickles the state (to disk, or into Redis) after every event and every
`yield` of a handler, so a secret shown once must travel only in the events
sent to the browser, never through a state var, not even for one step.
"""

from __future__ import annotations

import pytest
from reflex_base.event import Event
from reflex_base.utils.format import json_dumps

from saas_panel.services import alert_rules, api_tokens, auth, users
from saas_panel.state.admin import AlertsState, TokensState, UsersState
from tests.handlers import call, run, state_with_token


def _stored(state) -> bytes:
    """What the state manager writes for this session: every state of the tree, serialized as Reflex does."""

    def walk(node):
        yield node
        for child in node.substates.values():
            yield from walk(child)

    root = state._get_root_state()
    return b"".join(node._serialize() for node in walk(root)) + repr(root.dict()).encode()


def _drive(state, handler, **kwargs) -> tuple[str, list[bytes]]:
    """Run `handler` as Reflex does: the events it yields (as JSON for the browser), and the stored state after each step."""

    async def steps():
        events, stored = [], []
        async for update in handler.fn(state, **kwargs):
            events.extend(Event.from_event_type(update))
            stored.append(_stored(state))
        return events, stored

    events, stored = run(steps())
    return json_dumps(events), stored


def _spy(monkeypatch, module, name: str) -> list:
    """What the real `module.name` returns each time the handler calls it."""
    real, results = getattr(module, name), []

    def spy(*args, **kwargs):
        results.append(real(*args, **kwargs))
        return results[-1]

    monkeypatch.setattr(module, name, spy)
    return results


@pytest.fixture
def admin(make_user):
    """An admin's session token; a user "victim" exists too."""
    users.ensure_admin("admin password")
    make_user("victim", "password one")
    _, token = auth.login("admin", "admin password")
    return token


def _shown_not_stored(monkeypatch, state, handler, source, secret_of, **kwargs) -> str:
    """Run `handler`; the secret that `source` (module, function name) made, after checking where it went."""
    results = _spy(monkeypatch, *source)
    sent, stored = _drive(state, handler, **kwargs)
    assert len(results) == 1
    secret = secret_of(results[0])
    stored_at = [step for step, state_bytes in enumerate(stored) if secret.encode() in state_bytes]
    assert stored and stored_at == [], f"the secret was in the stored state after steps {stored_at}"
    assert secret in sent
    return secret


def test_a_new_api_token_is_shown_but_never_stored(admin, monkeypatch):
    state = state_with_token(TokensState, admin)
    form = {"name": "ci", "scope": "read", "expires_in_days": "7"}
    token = _shown_not_stored(monkeypatch, state, TokensState.event_handlers["create_token"], (api_tokens, "create"), lambda created: created.token, form_data=form)
    assert api_tokens.resolve(token) is not None
    assert state.new_token_name == "ci"


def test_a_reset_password_is_shown_but_never_stored(admin, monkeypatch):
    state = state_with_token(UsersState, admin)
    call(state, UsersState.event_handlers["load"])
    victim = next(row["id"] for row in state.rows if row["username"] == "victim")
    password = _shown_not_stored(monkeypatch, state, UsersState.event_handlers["reset_password"], (users, "reset_password"), str, user_id=victim)
    assert auth.authenticate("victim", password).username == "victim"
    assert state.one_time_password_user == "victim"


def test_a_generated_account_password_is_shown_but_never_stored(admin, monkeypatch):
    state = state_with_token(UsersState, admin)
    form = {"username": "bob", "email": "bob@example.com", "password": "", "role": "user"}
    password = _shown_not_stored(monkeypatch, state, UsersState.event_handlers["create_user"], (users, "admin_create_user"), lambda created: created.password, form_data=form)
    assert auth.authenticate("bob", password).username == "bob"
    assert state.one_time_password_user == "bob"


def test_a_webhook_secret_is_shown_but_never_stored_and_its_url_never_sent_back(admin, monkeypatch):
    state = state_with_token(AlertsState, admin)
    url = "https://hooks.example/alerts?token=do-not-show"
    form = {"name": "memory", "metric": "memory", "threshold": "90", "for_seconds": "60", "scope": "everyone", "webhook_url": url}
    secret = _shown_not_stored(monkeypatch, state, AlertsState.event_handlers["create_rule"], (alert_rules, "create_rule"), lambda saved: saved.webhook_secret, form_data=form)
    assert len(secret) >= 40 and state.new_secret_rule == "memory"
    assert [row["webhook"] for row in state.rules] == ["hooks.example"]
    call(state, AlertsState.event_handlers["open_edit"], rule_id=state.rules[0]["id"])
    assert state.edit_open and state.editing_has_webhook and "do-not-show" not in _stored(state).decode(errors="replace")
    # Saving the edit form without a new URL keeps the webhook and its secret.
    call(state, AlertsState.event_handlers["update_rule"], form_data={**form, "webhook_url": "", "threshold": "95", "enabled": "on"})
    [rule] = alert_rules.list_rules()
    assert (rule.threshold, rule.webhook_url, rule.enabled) == (95.0, url, True)
