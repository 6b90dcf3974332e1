"""The app shell: a top bar with navigation by role, and a centred content area."""

from __future__ import annotations

import reflex as rx

from saas_panel.state.auth import AuthState


def _nav_link(label: str, href: str, icon: str) -> rx.Component:
    return rx.link(
        rx.hstack(rx.icon(icon, size=16), rx.text(label, size="2"), align="center", spacing="1"),
        href=href,
        underline="none",
    )


def navbar() -> rx.Component:
    return rx.flex(
        rx.link(
            rx.hstack(rx.icon("boxes", size=22), rx.heading("saas-panel", size="4"), align="center"),
            href="/",
            underline="none",
        ),
        rx.spacer(),
        rx.cond(
            AuthState.is_authenticated,
            rx.hstack(
                _nav_link("Dashboard", "/dashboard", "layout-dashboard"),
                rx.cond(AuthState.is_admin, _nav_link("Admin", "/admin", "shield")),
                rx.badge(AuthState.username, variant="soft", id="current-user"),
                rx.button(
                    rx.icon("log-out", size=16),
                    rx.text("Log out", display=["none", "inline"]),
                    on_click=AuthState.logout,
                    variant="ghost",
                    size="2",
                    id="logout",
                ),
                align="center",
                spacing="3",
                wrap="wrap",
            ),
        ),
        rx.color_mode.button(size="2", variant="ghost"),
        align="center",
        spacing="3",
        wrap="wrap",
        padding_x=["0.75rem", "1.5rem"],
        padding_y="0.75rem",
        border_bottom=f"1px solid {rx.color('gray', 5)}",
        width="100%",
    )


def page_shell(*children: rx.Component, max_width: str = "72rem") -> rx.Component:
    return rx.box(
        navbar(),
        rx.box(
            *children,
            width="100%",
            max_width=max_width,
            margin_x="auto",
            padding=["0.75rem", "1.5rem"],
        ),
        min_height="100vh",
        background=rx.color("gray", 1),
    )


def signed_in_only(*children: rx.Component) -> rx.Component:
    """Render `children` once the server has confirmed the session; a spinner until then."""
    return rx.cond(
        AuthState.is_authenticated,
        rx.fragment(*children),
        rx.center(rx.spinner(size="3"), padding="8"),
    )


def admin_only(*children: rx.Component) -> rx.Component:
    return rx.cond(
        AuthState.is_admin,
        rx.fragment(*children),
        rx.center(rx.spinner(size="3"), padding="8"),
    )
