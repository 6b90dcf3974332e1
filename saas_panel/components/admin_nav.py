"""The admin console's sub-navigation, on every admin page."""

from __future__ import annotations

import reflex as rx

from saas_panel.components.layout import admin_only, page_shell

SECTIONS = (
    ("overview", "Overview", "/admin", "gauge"),
    ("users", "Users", "/admin/users", "users"),
    ("containers", "Containers", "/admin/containers", "container"),
    ("activity", "Activity", "/admin/activity", "scroll-text"),
    ("tokens", "API tokens", "/admin/tokens", "key-round"),
)


def admin_nav(current: str) -> rx.Component:
    return rx.flex(
        *[
            rx.link(
                rx.button(
                    rx.icon(icon, size=16),
                    label,
                    variant="solid" if key == current else "soft",
                    color_scheme=None if key == current else "gray",
                    size="2",
                ),
                href=href,
                id=f"admin-nav-{key}",
                aria_current="page" if key == current else None,
            )
            for key, label, href, icon in SECTIONS
        ],
        spacing="2",
        wrap="wrap",
        padding_bottom="0.75rem",
        border_bottom=f"1px solid {rx.color('gray', 5)}",
        width="100%",
    )


def admin_page(current: str, title: str, *children: rx.Component, heading_id: str | None = None) -> rx.Component:
    """Shell, admin guard, sub-navigation and a heading around one admin screen."""
    return page_shell(
        admin_only(
            rx.vstack(
                admin_nav(current),
                rx.heading(title, size="6", id=heading_id or f"admin-{current}-heading"),
                *children,
                spacing="4",
                width="100%",
            )
        ),
        max_width="88rem",  # wide tables: a little more room than the user pages
    )
