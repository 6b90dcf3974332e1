"""Export: a user's /data as a tar archive, streamed from the engine to the browser.

The panel's session token lives in the browser's storage, not in a cookie, so a plain download
cannot carry it. As for the app hand-off (app_access), the dashboard asks for a one-time ticket
(single use, EXPORT_TICKET_SECONDS, signed with the server secret, bound to the viewer and the
owner of the files) and sends the browser to EXPORT_PATH with it; the session token is never in
a URL. The archive is read from the user's container, running or stopped, chunk by chunk: no
copy of it is ever held in memory or on disk.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from urllib.parse import quote

from sqlmodel import select

from saas_panel.db import session_scope
from saas_panel.errors import NotFound, PermissionDenied
from saas_panel.models import Container, User
from saas_panel.runtime import get_runtime
from saas_panel.runtime.base import DATA_PATH
from saas_panel.services import activity, throttle
from saas_panel.services.auth import CurrentUser
from saas_panel.services.server_secret import sign, unsign

EXPORT_PATH = "/_export"
EXPORT_TICKET_SECONDS = 60
TICKET_PURPOSE = "export-ticket"
INVALID_TICKET = "This download link was already used or has expired. Download your files again from the dashboard."
NO_CONTAINER = "Start your app once to export your files."


def _may_export(viewer: User | CurrentUser, owner: str) -> bool:
    return viewer.is_admin or viewer.username == owner


def issue_export_ticket(viewer: CurrentUser, username: str) -> str:
    """A one-time ticket for `username`'s files, for `viewer`: the owner or an admin."""
    if not _may_export(viewer, username):
        raise PermissionDenied("You can only download your own files.")
    expires = int(time.time()) + EXPORT_TICKET_SECONDS
    return sign(TICKET_PURPOSE, f"{viewer.id}.{username}.{expires}.{secrets.token_hex(16)}")


def export_path(ticket: str) -> str:
    """Where the ticket is redeemed, on the panel's backend."""
    return f"{EXPORT_PATH}?ticket={quote(ticket)}"


def _redeem(ticket: str | None) -> tuple[int, str]:
    """(viewer id, owner) of a valid ticket, used up by this call; PermissionDenied otherwise."""
    fields = unsign(TICKET_PURPOSE, ticket)
    if fields is None or len(fields) != 4 or not fields[2].isdigit() or int(fields[2]) <= time.time():
        raise PermissionDenied(INVALID_TICKET)
    viewer_id, owner, _expires, nonce = fields
    if not throttle.once(f"export-ticket:{nonce}", EXPORT_TICKET_SECONDS + 5):
        raise PermissionDenied(INVALID_TICKET)  # already used
    return int(viewer_id), owner


def open_export(ticket: str | None, ip: str | None = None) -> tuple[str, Iterator[bytes]]:
    """The file name and the streamed tar of the /data a valid, unused ticket names, checking again
    that its viewer may still have it; logged as the viewer exporting the owner's files."""
    viewer_id, owner = _redeem(ticket)
    with session_scope() as session:
        viewer = session.get(User, viewer_id)
        if viewer is None or not viewer.is_active or not _may_export(viewer, owner):
            raise PermissionDenied(INVALID_TICKET)
        row = session.exec(select(Container).join(User, User.id == Container.user_id).where(User.username == owner)).first()
        if row is None:
            raise NotFound(NO_CONTAINER)
        viewer_name, container = viewer.username, row.engine_id or row.name
    chunks = get_runtime().archive(container, DATA_PATH)
    activity.record(activity.Action.EXPORT_DATA, actor=viewer_name, target=owner, ip=ip, details=f"{DATA_PATH} as a tar archive")
    return f"{owner}-data.tar", chunks
