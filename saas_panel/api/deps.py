"""Bearer authentication for every route: `Authorization: Bearer <token>` -> principal -> scope.

API tokens (created by admins, scope read or admin) work on every route. A
user's own panel session token is accepted only by GET /api/user/{name}/port,
so a user can ask for their own port; everywhere else it is refused. No
route reads cookies, so a cross-site page cannot ride on a browser's login
(and OriginGuardMiddleware refuses foreign Origins outright).
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from saas_panel.config import get_settings
from saas_panel.models import ApiScope, Outcome
from saas_panel.services import activity, api_tokens, auth, throttle
from saas_panel.services import client_ip as client_ips
from saas_panel.services.auth import CurrentUser

bearer = HTTPBearer(auto_error=False, description="An API token (spk_...) or, for the port route only, a panel session token")
CHALLENGE = {"WWW-Authenticate": "Bearer"}
API_SCOPES = (ApiScope.READ.value, ApiScope.ADMIN.value)
METRICS_SCOPES = (ApiScope.METRICS.value, ApiScope.ADMIN.value)


@dataclass(frozen=True)
class Caller:
    user: CurrentUser
    scope: str  # "read" | "admin" for API tokens; "session" for a panel session
    rate_key: str

    @property
    def is_admin(self) -> bool:
        return self.scope in ("read", "admin")


API_ACTIONS = {
    "GET": activity.Action.API_GET,
    "POST": activity.Action.API_POST,
    "PUT": activity.Action.API_PUT,
    "PATCH": activity.Action.API_PATCH,
    "DELETE": activity.Action.API_DELETE,
}


def client_ip(request: Request) -> str:
    """The caller's address (X-Forwarded-For only behind a trusted proxy)."""
    return client_ips.resolve(request.client.host if request.client else "", request.headers.get("x-forwarded-for", ""))


def _unauthorized() -> HTTPException:
    return HTTPException(status_code=401, detail="A valid bearer token is required.", headers=CHALLENGE)


def _rate_limit(caller: Caller) -> Caller:
    settings = get_settings()
    throttle.hit(throttle.Limit(caller.rate_key, settings.api_token_limit, settings.api_window_seconds))
    return caller


def _denied(request: Request, caller: Caller, message: str) -> HTTPException:
    """A 403 for a token whose scope does not cover the route, logged as a refusal."""
    activity.record(
        API_ACTIONS.get(request.method, activity.Action.API_POST),
        actor=caller.user.username,
        target=request.url.path[:128],
        target_is_account=False,
        ip=client_ip(request),
        outcome=Outcome.DENIED,
        details=f"token scope {caller.scope} refused",
    )
    return HTTPException(status_code=403, detail=message)


def _from_token(raw: str | None, request: Request, scopes: tuple[str, ...]) -> Caller | None:
    """The caller behind a valid API token, None for no valid token; 403 when its scope is not in `scopes`."""
    principal = api_tokens.resolve(raw)
    if principal is None:
        return None
    caller = Caller(user=principal.user, scope=principal.scope, rate_key=f"api:token:{principal.token_id}")
    if caller.scope not in scopes:
        raise _denied(request, caller, f"This token's scope is {caller.scope}; this route needs scope {' or '.join(scopes)}.")
    return caller


def token_caller(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Caller:
    """Any valid API token of scope read or admin."""
    caller = _from_token(credentials.credentials if credentials else None, request, API_SCOPES)
    if caller is None:
        raise _unauthorized()
    return _rate_limit(caller)


def metrics_caller(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Caller:
    """A valid API token of scope metrics (what a Prometheus server holds) or admin."""
    caller = _from_token(credentials.credentials if credentials else None, request, METRICS_SCOPES)
    if caller is None:
        raise _unauthorized()
    return _rate_limit(caller)


def token_or_session_caller(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Caller:
    """An API token, or the panel session of the user asking (only for routes about their own data)."""
    raw = credentials.credentials if credentials else None
    caller = _from_token(raw, request, API_SCOPES)
    if caller is None:
        user = auth.resolve_session(raw)
        if user is None:
            raise _unauthorized()
        scope = "admin" if user.is_admin else "session"
        caller = Caller(user=user, scope=scope, rate_key=f"api:user:{user.id}")
    return _rate_limit(caller)


def admin_caller(request: Request, caller: Caller = Depends(token_caller)) -> Caller:
    """An API token with scope admin: needed by every route that changes something."""
    if caller.scope != ApiScope.ADMIN.value:
        raise _denied(request, caller, "This token's scope is read; this needs scope admin.")
    return caller
