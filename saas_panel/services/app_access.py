"""Who may open a user's app, decided for every request the edge proxies.

The hand-off follows JupyterHub's OAuth model. A browser without an app cookie
is sent to the panel (`/open?app=<label>`), which checks its panel session and
sends it back to the app's own origin with a one-time ticket
(`/_edge/callback?ticket=...`). The panel answers that callback on the app's
host with a cookie of the app's own: host-only, HttpOnly, signed with the
server secret, naming the panel session it came from. The panel's session
token never leaves the panel's origin.

Every proxied request is then checked in memory: the cookie's signature and
expiry, plus two short caches (is that panel session still alive; where is
the app's container), so an answer costs no database query, and a logout, a
password change or a disabled account ends app access within SESSION_CACHE_S.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from sqlmodel import select

from saas_panel.config import Settings, get_settings
from saas_panel.db import session_scope
from saas_panel.errors import ContainerNotFound, EngineUnavailable
from saas_panel.models import Container, User, UserSession, utcnow
from saas_panel.runtime import get_runtime
from saas_panel.services import activity, auth, idle, provisioning, throttle
from saas_panel.services.security import hash_token
from saas_panel.services.server_secret import sign, unsign

SESSION_CACHE_S = 3.0
ROUTE_CACHE_S = 2.0
TICKET_SECONDS = 60
COOKIE_NAME = "saas_app"
SECURE_COOKIE_NAME = "__Host-saas_app"  # the browser enforces Secure, Path=/ and no Domain
CALLBACK_PATH = "/_edge/callback"


# --- hosts and URLs -------------------------------------------------------------


def _public(settings: Settings | None = None) -> tuple[str, str]:
    """(scheme, ':port' or '') of the public URL: app origins use the same."""
    parts = urlsplit((settings or get_settings()).public_url)
    return parts.scheme or "http", f":{parts.port}" if parts.port else ""


def app_origin(label: str) -> str:
    scheme, port = _public()
    return f"{scheme}://{label}.{get_settings().apps_domain}{port}"


def app_url(label: str, host_port: int | None = None, panel_host: str = "localhost") -> str:
    """Where the app is opened: its own origin through the edge; without an edge
    (SAAS_PANEL_EDGE=none), its host port when one is published, else nowhere."""
    if get_settings().edge == "none":
        return f"http://{panel_host}:{host_port}/" if host_port else ""
    return app_origin(label) + "/"


def label_of_host(host: str, settings: Settings | None = None) -> str | None:
    """The app label in a Host header such as `alice.apps.localhost:8000`, or None."""
    name = host.rsplit(":", 1)[0].lower().rstrip(".") if host else ""
    suffix = "." + (settings or get_settings()).apps_domain.lower()
    if not name.endswith(suffix):
        return None
    label = name[: -len(suffix)]
    return label if label and "." not in label else None


def safe_next(raw: str | None) -> str:
    """A path on the same origin (never `//host` or a full URL): where to land after the hand-off."""
    path = raw or "/"
    if not path.startswith("/") or path.startswith("//") or "\\" in path or any(ord(c) < 32 for c in path):
        return "/"
    return path


def open_url(label: str, next_path: str = "/") -> str:
    """The panel page that hands a browser over to app `label` (logging in first if needed)."""
    return f"{get_settings().public_url}/open?app={quote(label)}&next={quote(safe_next(next_path), safe='')}"


# --- signed values --------------------------------------------------------------


@dataclass(frozen=True)
class Pass:
    """What a ticket or an app cookie vouches for."""

    session_id: int
    user_id: int
    label: str
    expires: int


def _encode(purpose: str, grant: Pass, nonce: str = "") -> str:
    return sign(purpose, f"{grant.session_id}.{grant.user_id}.{grant.label}.{grant.expires}{'.' + nonce if nonce else ''}")


def _decode(purpose: str, value: str | None) -> tuple[Pass, list[str]] | None:
    parts = unsign(purpose, value)
    if parts is None or len(parts) < 4:
        return None
    try:
        grant = Pass(int(parts[0]), int(parts[1]), parts[2], int(parts[3]))
    except ValueError:
        return None
    return (grant, parts[4:]) if grant.expires > time.time() else None


# --- sessions and routes, cached ------------------------------------------------------


class _TTLCache:
    def __init__(self, ttl_s: float):
        self.ttl_s = ttl_s
        self._items: dict = {}
        self._lock = threading.Lock()

    def get(self, key, load):
        now = time.monotonic()
        with self._lock:
            hit = self._items.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = load(key)
        with self._lock:
            self._items[key] = (now + self.ttl_s, value)
            if len(self._items) > 10_000:
                self._items = {k: v for k, v in self._items.items() if v[0] > now}
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


@dataclass(frozen=True)
class Viewer:
    user_id: int
    username: str
    is_admin: bool


def _load_viewer(session_id: int) -> Viewer | None:
    now = utcnow()
    with session_scope() as session:
        row = session.exec(
            select(UserSession, User).join(User, User.id == UserSession.user_id).where(UserSession.id == session_id)
        ).first()
    if row is None:
        return None
    user_session, user = row
    return Viewer(user.id, user.username, user.is_admin) if auth.session_alive(user_session, user, now) else None


@dataclass(frozen=True)
class Route:
    """Where an app lives now: `upstream` is set only when its container runs."""

    user_id: int
    owner: str
    container_id: int | None
    upstream: str | None
    state: str  # running | stopped | missing | none | engine_down


def _load_route(label: str) -> Route | None:
    with session_scope() as session:
        found = session.exec(
            select(User, Container).outerjoin(Container, Container.user_id == User.id).where(User.host_label == label)
        ).first()
    if found is None:
        return None
    user, row = found
    if row is None:
        return Route(user.id, user.username, None, None, "none")
    try:
        info = get_runtime().inspect(row.engine_id or row.name)
    except ContainerNotFound:
        return Route(user.id, user.username, row.id, None, "missing")
    except EngineUnavailable:
        return Route(user.id, user.username, row.id, None, "engine_down")
    if not info.running or not info.address:
        return Route(user.id, user.username, row.id, None, "stopped")
    return Route(user.id, user.username, row.id, f"{info.address}:{info.upstream_port or get_settings().user_app_port}", "running")


_viewers = _TTLCache(SESSION_CACHE_S)
_routes = _TTLCache(ROUTE_CACHE_S)


def app_exists(host: str) -> bool:
    label = label_of_host(host)
    return label is not None and _routes.get(label, _load_route) is not None


def forget_route(label: str) -> None:
    """Drop a cached route (the panel just started or stopped that app)."""
    with _routes._lock:
        _routes._items.pop(label, None)


# --- the hand-off ----------------------------------------------------------------


def may_open(viewer_user_id: int, is_admin: bool, route: Route) -> bool:
    return is_admin or viewer_user_id == route.user_id


def issue_ticket(session_id: int, user_id: int, label: str) -> str:
    """A one-time ticket for the app's origin (the caller checked who may open the app)."""
    return _encode("app-ticket", Pass(session_id, user_id, label, int(time.time()) + TICKET_SECONDS), secrets.token_hex(16))


def callback_url(ticket: str, next_path: str) -> str:
    return f"{app_origin(_decode('app-ticket', ticket)[0].label)}{CALLBACK_PATH}?ticket={quote(ticket)}&next={quote(safe_next(next_path), safe='')}"


@dataclass(frozen=True)
class Cookie:
    name: str
    value: str
    max_age: int
    secure: bool

    def header(self) -> str:
        parts = [f"{self.name}={self.value}", "Path=/", f"Max-Age={self.max_age}", "HttpOnly", "SameSite=Lax"]
        return "; ".join(parts + (["Secure"] if self.secure else []))


def cookie_name(settings: Settings | None = None) -> str:
    return SECURE_COOKIE_NAME if _public(settings)[0] == "https" else COOKIE_NAME


def redeem(ticket: str | None, host: str, ip: str | None = None) -> Cookie | None:
    """The app cookie for a valid, unused ticket presented on its own app host; None otherwise."""
    decoded = _decode("app-ticket", ticket)
    if decoded is None or decoded[0].label != label_of_host(host) or not decoded[1]:
        return None
    grant, (nonce, *_) = decoded
    if not throttle.once(f"ticket:{nonce}", TICKET_SECONDS + 5):
        return None  # already used
    viewer = _load_viewer(grant.session_id)
    route = _load_route(grant.label)
    if viewer is None or viewer.user_id != grant.user_id or route is None or not may_open(viewer.user_id, viewer.is_admin, route):
        return None
    if viewer.user_id != route.user_id:  # an administrator looking at someone's app
        activity.record(activity.Action.VISIT_APP, actor=viewer.username, target=route.owner, ip=ip)
    seconds = get_settings().app_cookie_seconds
    value = _encode("app-cookie", Pass(grant.session_id, grant.user_id, grant.label, int(time.time()) + seconds))
    return Cookie(cookie_name(), value, seconds, secure=_public()[0] == "https")


# --- every proxied request ---------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    status: int  # 200: pass to `upstream`; 302: go to `location`; else show `page`
    upstream: str | None = None
    location: str | None = None
    page: str = ""


def _cookie(cookie_header: str, name: str) -> str | None:
    for part in (cookie_header or "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


def verify(host: str, uri: str, cookie_header: str, wants_page: bool) -> Verdict:
    """The edge's question for one request: may it pass, and to where?"""
    return _verify(host, uri, cookie_header, wants_page, _load_route, _load_viewer)


class _NotCached(Exception):
    pass


def _not_cached(_key):
    raise _NotCached


def verify_cached(host: str, uri: str, cookie_header: str, wants_page: bool) -> Verdict | None:
    """`verify` from the caches alone, so without blocking (the edge's event loop asks this first);
    None when it would have to query the database or the engine."""
    try:
        return _verify(host, uri, cookie_header, wants_page, _not_cached, _not_cached)
    except _NotCached:
        return None


def _verify(host: str, uri: str, cookie_header: str, wants_page: bool, load_route, load_viewer) -> Verdict:
    settings = get_settings()  # once per request: it reads the whole environment (~0.1 ms)
    label = label_of_host(host, settings)
    route = _routes.get(label, load_route) if label else None
    if route is None:
        return Verdict(404, page="No app lives at this address.")
    decoded = _decode("app-cookie", _cookie(cookie_header, cookie_name(settings)))
    grant = decoded[0] if decoded and decoded[0].label == label else None
    viewer = _viewers.get(grant.session_id, load_viewer) if grant else None
    if viewer is None or viewer.user_id != grant.user_id or not may_open(viewer.user_id, viewer.is_admin, route):
        if wants_page:
            return Verdict(302, location=open_url(label, uri))
        return Verdict(401, page="Log in to the panel to open this app.")
    if route.state == "engine_down":
        return Verdict(503, page="The container engine is unavailable; try again in a minute.")
    if route.upstream is None:
        if wants_page:  # wake it up (or explain what is wrong) on the panel's page
            return Verdict(302, location=open_url(label, uri))
        return Verdict(503, page="This app is not running.")
    idle.note_activity(route.container_id)  # in memory: the idle culler's "last activity"
    return Verdict(200, upstream=route.upstream)


# --- the panel's /open page ------------------------------------------------------------


@dataclass(frozen=True)
class Opening:
    """What the /open page does next: `ready` goes to `url`; `asleep` wakes the app first."""

    status: str  # ready | asleep | login | unknown | denied | engine_down | missing | no_container
    owner: str = ""
    url: str | None = None


def _session_of(token: str | None) -> tuple[int, Viewer] | None:
    user = auth.resolve_session(token)
    if user is None:
        return None
    with session_scope() as session:
        session_id = session.exec(select(UserSession.id).where(UserSession.token_hash == hash_token(token))).first()
    return (session_id, Viewer(user.id, user.username, user.is_admin)) if session_id else None


def opening(token: str | None, label: str, next_path: str = "/") -> Opening:
    """Where the panel session behind `token` may go for app `label`, now."""
    found = _session_of(token)
    if found is None:
        return Opening("login")
    session_id, viewer = found
    route = _load_route(label or "")
    if route is None:
        return Opening("unknown")
    if not may_open(viewer.user_id, viewer.is_admin, route):
        return Opening("denied")
    if route.state == "engine_down":
        return Opening("engine_down", route.owner)
    if route.state == "missing":
        return Opening("missing", route.owner)
    if route.upstream is None:  # the panel may not reach the container network (compose): the edge
        return Opening("asleep" if route.container_id else "no_container", route.owner)  # waits for the app
    forget_route(label)
    return Opening("ready", route.owner, callback_url(issue_ticket(session_id, viewer.user_id, label), next_path))


def wake(token: str | None, label: str, ip: str | None = None) -> None:
    """Start the app's container for a visitor allowed to open it (the owner, or an admin)."""
    found = _session_of(token)
    route = _load_route(label or "")
    if found is None or route is None or not may_open(found[1].user_id, found[1].is_admin, route):
        return
    provisioning.control(route.owner, "start", actor=found[1].username, ip=ip)
    forget_route(label)
