"""Alert webhooks against a real local HTTP receiver: the signed body, retries with backoff, the delivery log."""

from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlmodel import select

from saas_panel import runtime
from saas_panel.db import session_scope
from saas_panel.models import User, WebhookDelivery
from saas_panel.services import alert_rules, alerts, auth, plans, provisioning, users, webhooks
from saas_panel.services.alerts import Evaluator
from saas_panel.services.collector_loop import CollectorLoop
from saas_panel.services.coordination import LocalLease, LocalWatchers
from saas_panel.services.monitor import Collector
from tests.integration.recording_publisher import RecordingPublisher, running, until
from tests.mocking import FakeRuntime
from tests.unit.test_alerts import snapshot_of

SECRET = "s3cret-for-tests-only"


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


def _notice(url: str, alert_id: int) -> alerts.Notice:
    return alerts.Notice(alert_id, url, SECRET, {"event": "firing", "alert_id": alert_id, "user": "alice", "value": 97.5})


def _alert_id(make_user) -> int:
    users.ensure_admin("admin password")
    make_user("alice")
    alert_rules.create_rule(auth.authenticate("admin", "admin password"), alert_rules.RuleInput(name="mem", metric="memory", threshold=50))
    alerts.evaluate_sweep(Evaluator.from_database(), snapshot_of(alice=0.9))
    return alerts.recent_alerts()[0].id


def _deliveries() -> list[WebhookDelivery]:
    with session_scope() as session:
        return session.exec(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()


def test_the_body_is_signed_and_the_signature_verifies(db, make_user, receiver):
    server = receiver()
    assert webhooks.deliver(_notice(server.url, _alert_id(make_user)))
    [(body, signature)] = server.received
    assert json.loads(body)["value"] == 97.5
    assert webhooks.verify(SECRET, body, signature)
    assert not webhooks.verify("another secret", body, signature)
    assert not webhooks.verify(SECRET, body.replace(b"97.5", b"10.0"), signature)
    [row] = _deliveries()
    assert (row.delivered, row.attempts, row.status_code, row.host, row.event) == (True, 1, 200, "127.0.0.1", "firing")


def test_a_receiver_failing_twice_gets_it_on_the_third_attempt_after_backing_off(db, make_user, receiver):
    server = receiver([500, 503])
    waits: list[float] = []
    assert webhooks.deliver(_notice(server.url, _alert_id(make_user)), first_backoff_s=0.5, sleep=waits.append)
    assert waits == [0.5, 1.0] and len(server.received) == 3
    assert len({body for body, _ in server.received}) == 1  # the same signed body each time
    [row] = _deliveries()
    assert (row.delivered, row.attempts, row.status_code, row.error) == (True, 3, 200, None)


def test_giving_up_is_logged_without_the_secret_or_the_url(db, make_user, receiver, caplog):
    server = receiver([500] * 10)
    alert_id = _alert_id(make_user)
    assert not webhooks.deliver(_notice(server.url, alert_id), attempts=3, sleep=lambda _s: None)
    [row] = _deliveries()
    assert (row.delivered, row.attempts, row.status_code, row.error) == (False, 3, 500, "HTTP 500")
    assert "127.0.0.1" in caplog.text and SECRET not in caplog.text and "token=abc" not in caplog.text

    server.close()
    assert not webhooks.deliver(_notice(server.url, alert_id), attempts=2, sleep=lambda _s: None)  # nobody listens
    assert _deliveries()[-1].status_code is None and "URLError" in _deliveries()[-1].error


def test_a_rule_with_a_webhook_sends_firing_and_resolved(db, make_user, receiver):
    server = receiver()
    users.ensure_admin("admin password")
    make_user("bob")
    saved = alert_rules.create_rule(auth.authenticate("admin", "admin password"), alert_rules.RuleInput(name="mem", metric="memory", threshold=50, webhook_url=server.url))
    evaluator = Evaluator.from_database()
    for notice in alerts.evaluate_sweep(evaluator, snapshot_of(bob=0.9)) + alerts.evaluate_sweep(evaluator, snapshot_of(bob=0.1)):
        assert webhooks.deliver(notice)
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
