"""Alert webhooks: a JSON POST signed with HMAC-SHA256 over the exact body, retried with
exponential backoff, one delivery row per event (what the admin console lists).

The rows are an outbox: `queue` adds one in the transaction that stores the alert, and
`deliver_due` (the collector's lease holder, each sweep) sends those whose attempt is due,
so a retry waiting when the panel restarts is sent after it. A delivery may reach a receiver
twice (a worker that stops mid-POST): receivers tell events apart by `alert_id` and `event`.

The receiver checks `X-SaaS-Panel-Signature: sha256=<hex>` against its copy of the
rule's secret (`verify` shows how). Logs name the webhook's host only: the secret,
the body and the URL's path and query (which may hold a token) stay out of them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlmodel import Session, select

from saas_panel.db import session_scope
from saas_panel.models import Alert, AlertRule, WebhookDelivery, utcnow

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-SaaS-Panel-Signature"
ATTEMPTS = 5
FIRST_BACKOFF_S = 1.0  # then 2, 4, 8 s; an attempt is made at the first sweep after it is due
DUE_PER_RUN = 50
TIMEOUT_S = 10.0
ERROR_MAX_CHARS = 300


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a redirected POST would lose its body or change its method
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str) -> bool:
    """What a receiver does: recompute over the raw body and compare in constant time."""
    return hmac.compare_digest(sign(secret, body), signature or "")


def _post(url: str, body: bytes, signature: str) -> int:
    request = urllib.request.Request(
        url, data=body, method="POST",
        headers={"Content-Type": "application/json", SIGNATURE_HEADER: signature, "User-Agent": "saas-panel-alerts"},
    )
    try:
        with _opener.open(request, timeout=TIMEOUT_S) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def queue(session: Session, alert_id: int, url: str, payload: dict, now: datetime) -> None:
    """Add the delivery of `payload` to `url` for `alert_id`, due now, in the caller's transaction."""
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True)
    session.add(WebhookDelivery(alert_id=alert_id, event=payload["event"], host=(urlsplit(url).hostname or "")[:255],
                                body=body, created_at=now, next_attempt_at=now))


def _attempt(url: str, secret: str, body: bytes) -> tuple[int | None, str]:
    """One POST: (HTTP status or None, what went wrong or "")."""
    try:
        status = _post(url, body, sign(secret, body))
    except (OSError, ValueError) as exc:  # refused, timed out, unresolvable
        return None, type(exc).__name__ + (f": {exc.reason}" if isinstance(exc, urllib.error.URLError) else "")
    return status, "" if 200 <= status < 300 else f"HTTP {status}"


def _due(now: datetime) -> list[tuple[int, str, str | None, str | None]]:
    """(delivery id, body, the rule's webhook URL and secret now) of the deliveries due, oldest first."""
    with session_scope() as session:
        return list(session.exec(
            select(WebhookDelivery.id, WebhookDelivery.body, AlertRule.webhook_url, AlertRule.webhook_secret)
            .join(Alert, Alert.id == WebhookDelivery.alert_id)
            .join(AlertRule, AlertRule.id == Alert.rule_id)
            .where(WebhookDelivery.next_attempt_at.is_not(None), WebhookDelivery.next_attempt_at <= now)
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(DUE_PER_RUN)
        ).all())


def _record(delivery_id: int, status: int | None, error: str, now: datetime, last: bool = False) -> None:
    with session_scope() as session:
        row = session.get(WebhookDelivery, delivery_id)
        if row is None:  # its alert was deleted with its rule meanwhile
            return
        row.attempts += 1
        row.status_code, row.error = status, error[:ERROR_MAX_CHARS] or None
        row.delivered = not error
        if row.delivered or last or row.attempts >= ATTEMPTS:
            row.next_attempt_at = None
            if not row.delivered:
                log.warning("alert webhook to %s not delivered after %d attempts: %s", row.host, row.attempts, error)
        else:
            row.next_attempt_at = now + timedelta(seconds=FIRST_BACKOFF_S * 2 ** (row.attempts - 1))


def deliver_due(now: datetime | None = None) -> int:
    """Make one attempt at each delivery that is due; returns how many were delivered."""
    now, delivered = now or utcnow(), 0
    for delivery_id, body, url, secret in _due(now):
        if not (url and secret):
            _record(delivery_id, None, "the rule no longer has a webhook", now, last=True)
            continue
        status, error = _attempt(url, secret, (body or "").encode())
        _record(delivery_id, status, error, now)
        delivered += not error
    return delivered
