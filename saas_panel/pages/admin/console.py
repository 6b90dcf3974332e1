"""The admin console's frame: its screens register here, and each is shown with the console's sub-navigation.

A screen module declares itself once with `@admin_screen(...)` on the function
returning its body; importing the module (pages/admin/__init__.py) adds it to
ADMIN_SCREENS, which the app's page loop and the sub-navigation both read.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Callable

import reflex as rx

from saas_panel.components.layout import admin_only, page_shell
from saas_panel.state.auth import AuthState


@dataclasses.dataclass(frozen=True)
class AdminScreen:
    key: str  # names its elements: admin-nav-<key>, and admin-<key>-heading unless heading_id says otherwise
    label: str  # in the sub-navigation
    icon: str
    route: str
    title: str
    on_load: tuple  # the admin guard first
    page: Callable[[], rx.Component]


ADMIN_SCREENS: list[AdminScreen] = []  # in registration order, which is the sub-navigation's


def admin_screen(
    key: str,
    label: str,
    icon: str,
    *,
    on_load: tuple = (),
    route: str | None = None,
    title: str | None = None,
    heading: str | None = None,
    heading_id: str | None = None,
):
    """Register the decorated function, which returns a screen's components, as an admin page.

    Defaults: route /admin/<key>, title "<label> · Admin", heading <label>.
    """
    route = route or f"/admin/{key}"
    title = title or f"{label} · Admin"
    heading = heading or label
    heading_id = heading_id or f"admin-{key}-heading"

    def register(body: Callable[[], list[rx.Component]]):
        @functools.wraps(body)
        def page() -> rx.Component:
            return _frame(key, heading, heading_id, body())

        guarded = (AuthState.require_admin_page, *on_load)
        ADMIN_SCREENS.append(AdminScreen(key, label, icon, route, f"{title} · saas-panel", guarded, page))
        return page

    return register


def _nav(current: str) -> rx.Component:
    return rx.flex(
        *[
            rx.link(
                rx.button(
                    rx.icon(screen.icon, size=16),
                    screen.label,
                    variant="solid" if screen.key == current else "soft",
                    color_scheme=None if screen.key == current else "gray",
                    size="2",
                ),
                href=screen.route,
                id=f"admin-nav-{screen.key}",
                aria_current="page" if screen.key == current else None,
            )
            for screen in ADMIN_SCREENS
        ],
        spacing="2",
        wrap="wrap",
        padding_bottom="0.75rem",
        border_bottom=f"1px solid {rx.color('gray', 5)}",
        width="100%",
    )


def _frame(key: str, heading: str, heading_id: str, body: list[rx.Component]) -> rx.Component:
    """Shell, admin guard, sub-navigation and a heading around one admin screen."""
    return page_shell(
        admin_only(
            rx.vstack(
                _nav(key),
                rx.heading(heading, size="6", id=heading_id),
                *body,
                spacing="4",
                width="100%",
            )
        ),
        max_width="88rem",  # wide tables: a little more room than the user pages
    )
