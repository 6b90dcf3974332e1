"""The user's personal dashboard."""

from __future__ import annotations

import reflex as rx

from saas_panel.components.layout import page_shell, signed_in_only
from saas_panel.state.auth import AuthState


def dashboard_page() -> rx.Component:
    return page_shell(
        signed_in_only(
            rx.vstack(
                rx.heading("Your dashboard", size="7", id="dashboard-heading"),
                rx.text("Signed in as ", rx.code(AuthState.username)),
                spacing="4",
                width="100%",
            )
        )
    )
