"""The edge's two calls into the panel, as pure ASGI (no routing or validation layers: they sit on
every proxied request).

- `/_edge/verify`: Caddy's forward_auth asks it about each request to an app host; 200 carries
  the upstream in `X-Saas-Upstream`, anything else is sent to the browser as is.
- `/_edge/callback`: the hand-off landing on the app's own host: redeems the one-time ticket,
  sets the app cookie and goes on to the page the visitor asked for.
- `/_edge/ask`: on-demand TLS asks whether to get a certificate for a host.

The edge answers `/_edge/*` on the panel's own host with a 404: only the edge reaches these.
"""

from __future__ import annotations

import asyncio
import html
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from saas_panel.config import get_settings
from saas_panel.services import app_access, client_ip

VERIFY_PATH = "/_edge/verify"
ASK_PATH = "/_edge/ask"
UPSTREAM_HEADER = b"x-saas-upstream"


def request_headers(scope: Scope) -> dict[str, str]:
    return {key.decode("latin-1"): value.decode("latin-1") for key, value in scope.get("headers", [])}


def query_value(scope: Scope, name: str, default: str = "") -> str:
    """The first value of query parameter `name`."""
    return (parse_qs(scope.get("query_string", b"").decode("latin-1")).get(name) or [default])[0]


def request_ip(scope: Scope) -> str:
    peer = scope["client"][0] if scope.get("client") else ""
    return client_ip.resolve(peer, request_headers(scope).get("x-forwarded-for", ""))


def html_page(title: str, message: str) -> bytes:
    panel = html.escape(get_settings().public_url)
    return (
        "<!doctype html><html><head><meta charset='utf-8'><meta name='viewport' content='width=device-width'>"
        f"<title>{html.escape(title)}</title><style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;"
        "padding:0 1rem;color-scheme:light dark}}</style></head>"
        f"<body><h1>{html.escape(title)}</h1><p>{html.escape(message)}</p>"
        f"<p><a href='{panel}/dashboard'>Go to your dashboard</a></p></body></html>"
    ).encode()


TITLES = {401: "Log in first", 403: "Not allowed", 404: "No such app", 503: "App unavailable"}


async def respond(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes = b"") -> None:
    await send({"type": "http.response.start", "status": status, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def respond_page(send: Send, status: int, title: str, message: str) -> None:
    await respond(send, status, [(b"content-type", b"text/html; charset=utf-8"), (b"cache-control", b"no-store")], html_page(title, message))


async def _verify(scope: Scope, send: Send) -> None:
    headers = request_headers(scope)
    method = headers.get("x-forwarded-method", "GET").upper()
    wants_page = method == "GET" and "upgrade" not in headers and "text/html" in headers.get("accept", "")
    question = (
        headers.get("x-forwarded-host") or headers.get("host", ""),
        headers.get("x-forwarded-uri", "/"),
        headers.get("cookie", ""),
        wants_page,
    )
    # Nearly always answered from memory; a thread (~0.1 ms) only when the database or engine is asked.
    verdict = app_access.verify_cached(*question) or await asyncio.to_thread(app_access.verify, *question)
    if verdict.status == 200:
        await respond(send, 200, [(UPSTREAM_HEADER, verdict.upstream.encode())])
    elif verdict.status == 302:
        await respond(send, 302, [(b"location", verdict.location.encode()), (b"cache-control", b"no-store")])
    else:
        await respond_page(send, verdict.status, TITLES.get(verdict.status, "App unavailable"), verdict.page)


async def _verify_upgrade(scope: Scope, receive: Receive, send: Send) -> None:
    """forward_auth keeps a websocket request's Upgrade header, so the server opens a websocket
    scope for the check: answer it in plain HTTP all the same (ASGI's websocket denial response)."""
    await receive()  # websocket.connect
    if "websocket.http.response" not in scope.get("extensions", {}):
        await send({"type": "websocket.close", "code": 1008})  # the server can only say 403
        return

    async def as_http(message: Message) -> None:
        await send({**message, "type": "websocket." + message["type"]})

    await _verify(scope, as_http)


async def _callback(scope: Scope, send: Send) -> None:
    cookie = await asyncio.to_thread(app_access.redeem, query_value(scope, "ticket"), request_headers(scope).get("host", ""), request_ip(scope))
    if cookie is None:
        await respond_page(send, 403, "Link expired", "This sign-in link was already used or has expired. Open the app again from your dashboard.")
        return
    location = app_access.safe_next(query_value(scope, "next", "/"))
    await respond(
        send,
        302,
        [(b"location", location.encode()), (b"set-cookie", cookie.header().encode()), (b"cache-control", b"no-store"), (b"referrer-policy", b"no-referrer")],
    )


async def _ask(scope: Scope, send: Send) -> None:
    """On-demand TLS: a certificate only for the host of an existing user's app."""
    known = await asyncio.to_thread(app_access.app_exists, query_value(scope, "domain"))
    await respond(send, 200 if known else 404, [])


class EdgeMiddleware:
    """Answers the edge's calls before anything else sees them."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == VERIFY_PATH:
            await _verify_upgrade(scope, receive, send)
        elif scope["type"] == "http" and scope["path"] == VERIFY_PATH:
            await _verify(scope, send)
        elif scope["type"] == "http" and scope["path"] == app_access.CALLBACK_PATH:
            await _callback(scope, send)
        elif scope["type"] == "http" and scope["path"] == ASK_PATH:
            await _ask(scope, send)
        else:
            await self.app(scope, receive, send)
