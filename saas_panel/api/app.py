"""The FastAPI app: routers, error mapping and middleware. Reflex mounts itself inside it.

Used as `rx.App(api_transformer=create_api())`; OpenAPI is at /openapi.json,
the interactive docs at /docs. `outermost` wraps the whole backend, outside
Reflex's own layers: the security headers then cover every HTTP response (API,
/ping, the pages in single-port mode), and the edge's per-request question is
answered before any routing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp

from saas_panel.api.edge import EdgeMiddleware
from saas_panel.api.export import ExportMiddleware
from saas_panel.api.middleware import OriginGuardMiddleware, SecurityHeadersMiddleware
from saas_panel.api.routes import activity, admin, alerts, containers, metrics, plans, provision, users
from saas_panel.errors import (
    AuthenticationError,
    Conflict,
    DatabaseUnavailable,
    DomainError,
    EngineError,
    EngineUnavailable,
    NotFound,
    PermissionDenied,
    Throttled,
    ValidationError,
)

STATUS_FOR = (  # the first matching class wins
    (ValidationError, 422),
    (NotFound, 404),
    (PermissionDenied, 403),
    (AuthenticationError, 401),
    (Conflict, 409),
    (Throttled, 429),
    (EngineUnavailable, 503),
    (DatabaseUnavailable, 503),
    (EngineError, 502),
    (DomainError, 400),
)


async def domain_error(_request: Request, exc: DomainError) -> JSONResponse:
    status = next(code for cls, code in STATUS_FOR if isinstance(exc, cls))
    if isinstance(exc, ValidationError):  # the same shape as FastAPI's own 422s
        body = {"detail": [{"loc": ["body", exc.field], "msg": str(exc), "type": "value_error"}]}
    else:
        body = {"detail": str(exc)}
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, Throttled) else None
    return JSONResponse(body, status_code=status, headers=headers)


def create_api(websocket_clients: Callable[[], Awaitable[int | None]] | None = None) -> FastAPI:
    """`websocket_clients` counts the browsers connected to the panel, for /metrics (the Reflex app knows)."""
    api = FastAPI(
        title="saas-panel API",
        version="1",
        description="Bearer tokens: admins create them under Admin > API tokens (scope read or admin).",
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    for module in (provision, admin, users, containers, activity, plans, alerts, metrics):
        api.include_router(module.router)
    api.state.websocket_clients = websocket_clients
    api.add_exception_handler(DomainError, domain_error)
    api.add_middleware(OriginGuardMiddleware)
    return api


def outermost(backend: ASGIApp) -> ASGIApp:
    return SecurityHeadersMiddleware(EdgeMiddleware(ExportMiddleware(backend)))
