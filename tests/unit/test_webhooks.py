"""Alert webhooks against a real local HTTP receiver: the signed body, retries with backoff, the delivery log."""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlmodel import select

from saas_panel import runtime
from saas_panel.db import session_scope
from saas_panel.models import AlertRule, User, WebhookDelivery
from saas_panel.services import alert_rules, alerts, auth, plans, provisioning, users, webhooks
from saas_panel.services.alerts import Evaluator
from saas_panel.services.collector_loop import CollectorLoop
from saas_panel.services.coordination import LocalLease, LocalWatchers
from saas_panel.services.monitor import Collector
from tests.integration.recording_publisher import RecordingPublisher, running, until
from tests.mocking import FakeRuntime
from tests.unit.test_alerts import snapshot_of

T0 = datetime(2030, 1, 1, tzinfo=timezone.utc)


class Receiver:
    """An http.server in a thread: answers with `statuses` in turn (then 200) and keeps what it got."""

    def __init__(self, statuses: list[int] = ()):
        self.statuses = list(statuses)
        self.received: list[tuple[bytes, str]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((body, self.headers.get(webhooks.SIGNATURE_HEADER, "")))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.end_headers()

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook?token=abc"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(statuses=()):
        made.append(Receiver(statuses))
        return made[-1]

    yield make
    for server in made:
        server.close()


def _queued(make_user, url: str, user: str = "alice") -> tuple[int, str]:
    """A memory rule with a webhook to `url` that fired for `user`: one delivery queued; returns
    the alert's id and the webhook's secret (shown once, when the rule is made)."""
    users.ensure_admin("admin password")
    make_user(user)
    rule = alert_rules.create_rule(auth.authenticate("admin", "admin password"),
                                   alert_rules.RuleInput(name="mem", metric="memory", threshold=50, webhook_url=url))
    assert alerts.evaluate_sweep(Evaluator.from_database(), snapshot_of(**{user: 0.9}), now=T0) == 1
    return alerts.recent_alerts()[0].id, rule.webhook_secret


def _deliveries() -> list[WebhookDelivery]:
    with session_scope() as session:
        return session.exec(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_the_body_is_signed_and_the_signature_verifies(db, make_user, receiver):
    server = receiver()
    alert_id, secret = _queued(make_user, server.url)
    [queued] = _deliveries()
    assert (queued.attempts, queued.next_attempt_at, server.received) == (0, T0, [])  # stored with the alert, not yet sent
    assert webhooks.deliver_due(now=at(0)) == 1
    [(body, signature)] = server.received
    assert json.loads(body)["value"] == 90.0 and json.loads(body)["alert_id"] == alert_id
    assert webhooks.verify(secret, body, signature)
    assert not webhooks.verify("another secret", body, signature)
    assert not webhooks.verify(secret, body.replace(b"90.0", b"10.0"), signature)
    [row] = _deliveries()
    assert (row.delivered, row.attempts, row.status_code, row.host, row.event, row.next_attempt_at) == (True, 1, 200, "127.0.0.1", "firing", None)
    assert webhooks.deliver_due(now=at(60)) == 0 and len(server.received) == 1


def test_a_receiver_failing_twice_gets_it_on_the_third_attempt_after_backing_off(db, make_user, receiver):
    server = receiver([500, 503])
    _queued(make_user, server.url)
    assert webhooks.deliver_due(now=at(0)) == 0
    assert _deliveries()[0].next_attempt_at == at(webhooks.FIRST_BACKOFF_S)
    assert webhooks.deliver_due(now=at(webhooks.FIRST_BACKOFF_S / 2)) == 0 and len(server.received) == 1  # not due yet
    assert webhooks.deliver_due(now=at(webhooks.FIRST_BACKOFF_S)) == 0
    assert _deliveries()[0].next_attempt_at == at(webhooks.FIRST_BACKOFF_S * 3)  # then twice as long
    assert alerts.recent_deliveries()[0].pending
    assert webhooks.deliver_due(now=at(webhooks.FIRST_BACKOFF_S * 3)) == 1
    assert len(server.received) == 3 and len({body for body, _ in server.received}) == 1  # the same signed body each time
    [row] = _deliveries()
    assert (row.delivered, row.attempts, row.status_code, row.error, row.next_attempt_at) == (True, 3, 200, None, None)


def test_giving_up_is_logged_without_the_secret_or_the_url(db, make_user, receiver, caplog, monkeypatch):
    monkeypatch.setattr(webhooks, "ATTEMPTS", 3)
    server = receiver([500] * 10)
    _alert_id, secret = _queued(make_user, server.url)
    for minute in range(5):
        webhooks.deliver_due(now=at(60 * minute))
    [row] = _deliveries()
    assert (row.delivered, row.attempts, row.status_code, row.error, row.next_attempt_at) == (False, 3, 500, "HTTP 500", None)
    assert not alerts.recent_deliveries()[0].pending
    assert "127.0.0.1" in caplog.text and secret not in caplog.text and "token=abc" not in caplog.text


def test_nobody_listening_is_an_error_and_a_retry(db, make_user, receiver):
    server = receiver()
    server.close()
    _queued(make_user, server.url)
    webhooks.deliver_due(now=at(0))
    [row] = _deliveries()
    assert row.status_code is None and "URLError" in row.error and row.next_attempt_at is not None


def test_a_retry_waiting_when_the_panel_stops_is_sent_after_it_starts_again(db, make_user, receiver):
    """Nothing but the database carries a delivery from one attempt to the next."""
    server = receiver([502])
    _queued(make_user, server.url)
    webhooks.deliver_due(now=at(0))
    with session_scope() as session:  # what a new process finds
        assert session.exec(select(WebhookDelivery.attempts).where(WebhookDelivery.next_attempt_at.is_not(None))).all() == [1]
    assert webhooks.deliver_due(now=at(30)) == 1 and len(server.received) == 2


def test_a_rule_that_lost_its_webhook_meanwhile_ends_its_deliveries(db, make_user, receiver):
    server = receiver([500])
    _queued(make_user, server.url)
    webhooks.deliver_due(now=at(0))
    with session_scope() as session:
        session.exec(select(AlertRule)).one().webhook_url = None
    webhooks.deliver_due(now=at(30))
    [row] = _deliveries()
    assert (row.delivered, row.error, row.next_attempt_at, len(server.received)) == (False, "the rule no longer has a webhook", None, 1)


def test_a_rule_with_a_webhook_sends_firing_and_resolved(db, make_user, receiver):
    server = receiver()
    users.ensure_admin("admin password")
    make_user("bob")
    saved = alert_rules.create_rule(auth.authenticate("admin", "admin password"), alert_rules.RuleInput(name="mem", metric="memory", threshold=50, webhook_url=server.url))
    evaluator = Evaluator.from_database()
    alerts.evaluate_sweep(evaluator, snapshot_of(bob=0.9), now=at(0))
    alerts.evaluate_sweep(evaluator, snapshot_of(bob=0.1), now=at(1))
    assert webhooks.deliver_due(now=at(2)) == 2
    events = [json.loads(body) for body, _ in server.received]
    assert [(e["event"], e["user"], e["rule"]) for e in events] == [("firing", "bob", "mem"), ("resolved", "bob", "mem")]
    assert all(webhooks.verify(saved.webhook_secret, body, signature) for body, signature in server.received)
    assert [d.rule for d in alerts.recent_deliveries()] == ["mem", "mem"]


def test_the_collector_loop_evaluates_each_sweep_and_delivers_beside_it(db, make_user, receiver, monkeypatch):
    fake = FakeRuntime()
    monkeypatch.setattr(runtime, "_shared", fake)
    server = receiver([503])
    monkeypatch.setattr(webhooks, "FIRST_BACKOFF_S", 0.01)
    users.ensure_admin("admin password")
    make_user("carol")
    provisioning.provision("carol")
    with session_scope() as session:
        carol = session.exec(select(User).where(User.username == "carol")).one()
        carol.storage_used_bytes = int(plans.default_plan(session).storage_mb * 1024 * 1024 * 0.95)
    alert_rules.create_rule(auth.authenticate("admin", "admin password"), alert_rules.RuleInput(name="disk", metric="storage", threshold=90, webhook_url=server.url))
    loop = CollectorLoop(Collector(fake), RecordingPublisher(), LocalLease(), LocalWatchers(), interval=0.02)

    async def scenario() -> None:
        async with running(loop):
            await until(lambda: any(d.delivered for d in _deliveries()), "the webhook delivered")

    asyncio.run(scenario())
    [firing] = alerts.recent_alerts(firing_only=True)
    assert (firing.username, firing.value) == ("carol", 95.0)
    [row] = _deliveries()
    assert (row.attempts, row.delivered) == (2, True)
