"""`GET /_export?ticket=...` on the panel's origin: a user's /data as a tar download, as pure ASGI
so that the archive goes from the engine to the browser chunk by chunk (see services/export)."""

from __future__ import annotations

import asyncio
import logging

from starlette.types import ASGIApp, Receive, Scope, Send

from saas_panel.api.edge import query_value, request_ip, respond_page
from saas_panel.errors import DomainError, NotFound, PermissionDenied
from saas_panel.services import export

log = logging.getLogger(__name__)
ENGINE_TROUBLE = "Your files could not be read just now. Try again in a moment; an administrator can see what happened."


def _page_for(exc: DomainError) -> tuple[int, str, str]:
    """Status, title and message: never the engine's own words (they are in the panel's log)."""
    if isinstance(exc, PermissionDenied):
        return 403, "Link expired", str(exc)
    if isinstance(exc, NotFound):
        return 404, "Nothing to download", str(exc)
    log.warning("Export failed: %s", exc)
    return 503, "Download unavailable", ENGINE_TROUBLE


async def _wait_for_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _export(scope: Scope, receive: Receive, send: Send) -> None:
    try:
        filename, chunks = await asyncio.to_thread(export.open_export, query_value(scope, "ticket"), request_ip(scope))
    except DomainError as exc:
        await respond_page(send, *_page_for(exc))
        return
    headers = [
        (b"content-type", b"application/x-tar"),
        (b"content-disposition", f'attachment; filename="{filename}"'.encode()),
        (b"cache-control", b"no-store"),
        (b"referrer-policy", b"no-referrer"),
    ]
    gone = asyncio.create_task(_wait_for_disconnect(receive))  # a download given up stops reading the engine
    try:
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        # Each chunk is read in a thread: the engine's stream blocks, the event loop must not.
        while not gone.done() and (chunk := await asyncio.to_thread(next, chunks, None)) is not None:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    finally:
        gone.cancel()
        close = getattr(chunks, "close", None)
        if close is not None:
            await asyncio.to_thread(close)


class ExportMiddleware:
    """Answers the export download before anything else sees it."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == export.EXPORT_PATH:
            await _export(scope, receive, send)
        else:
            await self.app(scope, receive, send)
