"""Alert webhooks: a JSON POST signed with HMAC-SHA256 over the exact body, retried with
exponential backoff, and one delivery row per event (what the admin console lists).

The receiver checks `X-SaaS-Panel-Signature: sha256=<hex>` against its copy of the
rule's secret (`verify` shows how). Logs name the webhook's host only: the secret,
the body and the URL's path and query (which may hold a token) stay out of them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from urllib.parse import urlsplit

from saas_panel.db import session_scope
from saas_panel.models import WebhookDelivery, utcnow
from saas_panel.services.alerts import Notice

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-SaaS-Panel-Signature"
ATTEMPTS = 5
FIRST_BACKOFF_S = 1.0  # then 2, 4, 8 s
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


def deliver(notice: Notice, attempts: int = ATTEMPTS, first_backoff_s: float | None = None, sleep: Callable[[float], None] = time.sleep) -> bool:
    """POST `notice` until a 2xx answer or `attempts` run out (waiting FIRST_BACKOFF_S, then twice
    as long each time); record the outcome; True when delivered."""
    first_backoff_s = FIRST_BACKOFF_S if first_backoff_s is None else first_backoff_s
    body = json.dumps(notice.payload, separators=(",", ":"), sort_keys=True).encode()
    signature = sign(notice.secret, body)
    host = urlsplit(notice.url).hostname or ""
    status, error, tries = None, "", 0
    for tries in range(1, attempts + 1):
        try:
            status, error = _post(notice.url, body, signature), ""
        except (OSError, ValueError) as exc:  # refused, timed out, unresolvable
            status, error = None, type(exc).__name__ + (f": {exc.reason}" if isinstance(exc, urllib.error.URLError) else "")
        if status is not None and 200 <= status < 300:
            break
        if tries < attempts:
            sleep(first_backoff_s * 2 ** (tries - 1))
    delivered = status is not None and 200 <= status < 300
    if not delivered:
        error = error or f"HTTP {status}"
        log.warning("alert webhook to %s not delivered after %d attempts: %s", host, tries, error)
    with session_scope() as session:
        session.add(WebhookDelivery(
            alert_id=notice.alert_id, event=notice.payload["event"], host=host[:255], attempts=tries,
            status_code=status, delivered=delivered, error=error[:ERROR_MAX_CHARS] or None, created_at=utcnow(),
        ))
    return delivered
