"""Starting the browser's download of a user's files (services/export) from an event handler."""

from __future__ import annotations

import reflex as rx

from saas_panel.services import export


def start_export_download(ticket: str) -> rx.event.EventSpec:
    # The backend's full address (in dev mode it is not the page's origin), given as a Var because
    # rx.download takes plain strings only as same-origin paths; the archive comes as an attachment,
    # so the browser downloads it and the page stays.
    url = rx.config.get_config().api_url.rstrip("/") + export.export_path(ticket)
    return rx.download(url=rx.Var.create(url))
