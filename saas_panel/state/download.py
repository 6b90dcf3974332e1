"""Starting the browser's download of a user's files (services/export) from an event handler."""

from __future__ import annotations

import json

import reflex as rx

from saas_panel.services import export


def start_export_download(ticket: str) -> rx.event.EventSpec:
    # A real navigation to the backend, not the client-side router (which rx.redirect uses for its own
    # origin): the archive comes as an attachment, so the browser downloads it and the page stays.
    url = rx.config.get_config().api_url.rstrip("/") + export.export_path(ticket)
    return rx.call_script(f"window.location.assign({json.dumps(url)})")
