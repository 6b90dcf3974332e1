"""Pure-ASGI middleware: security headers on every HTTP response, and the API's Origin check.

Both wrap the whole backend (API, Reflex pages in single-port mode, /ping);
websocket scopes pass straight through (the socket's Origin is checked by
Socket.IO against the same allowlist, via rxconfig's cors_allowed_origins).
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from saas_panel.config import get_settings

CSP = "frame-ancestors 'none'; object-src 'none'; base-uri 'none'"
BASE_HEADERS = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-frame-options", b"DENY"),
)
API_PREFIX = "/api/"


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return ""


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp):
        self.app = app
        settings = get_settings()
        self.trust_proxy = settings.trust_proxy_headers
        self.hsts = f"max-age={settings.hsts_seconds}; includeSubDomains".encode()

    def _over_tls(self, scope: Scope) -> bool:
        if scope.get("scheme") == "https":
            return True
        forwarded = _header(scope, b"x-forwarded-proto").split(",")[0].strip().lower()
        return self.trust_proxy and forwarded == "https"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = list(BASE_HEADERS)
        if self._over_tls(scope):
            extra.append((b"strict-transport-security", self.hsts))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {key.lower() for key, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *(h for h in extra if h[0] not in present)]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class OriginGuardMiddleware:
    """Refuse /api/ requests that a browser sent from a foreign page (Origin not in the allowlist).

    Requests without an Origin header (curl, scripts) are judged by their bearer token alone.
    """

    def __init__(self, app: ASGIApp):
        self.app = app
        self.allowed = set(get_settings().allowed_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(API_PREFIX):
            origin = _header(scope, b"origin").rstrip("/")
            if origin and origin not in self.allowed:
                await _forbidden(send, "Requests from this origin are not allowed.")
                return
        await self.app(scope, receive, send)


async def _forbidden(send: Send, message: str) -> None:
    body = json.dumps({"detail": message}).encode()
    await send({
        "type": "http.response.start",
        "status": 403,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
    })
    await send({"type": "http.response.body", "body": body})
