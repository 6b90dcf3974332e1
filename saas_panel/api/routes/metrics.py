"""GET /metrics: the deployment's numbers for Prometheus (a token of scope metrics or admin)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Request, Response

from saas_panel.api.deps import Caller, metrics_caller
from saas_panel.services import prometheus

router = APIRouter(tags=["metrics"])


@router.get("/metrics", response_class=Response, responses={200: {"content": {prometheus.CONTENT_TYPE: {}}}})
async def scrape(request: Request, caller: Caller = Depends(metrics_caller)) -> Response:
    """The Prometheus text format; read from the database only, so a scrape costs the engine nothing."""
    count_clients = getattr(request.app.state, "websocket_clients", None)
    clients = await count_clients() if count_clients else None
    body = await asyncio.to_thread(prometheus.scrape, clients)
    return Response(content=body, media_type=prometheus.CONTENT_TYPE)
