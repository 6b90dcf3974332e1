"""The admin console."""

from __future__ import annotations

import reflex as rx

from saas_panel.components.layout import admin_only, page_shell
from saas_panel.state.admin import AdminState


def _stat(label: str, value) -> rx.Component:
    return rx.card(rx.vstack(rx.text(label, size="2", color_scheme="gray"), rx.heading(value, size="7")), min_width="10rem")


def _user_row(user: dict) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(user["username"]),
        rx.table.cell(user["email"]),
        rx.table.cell(rx.badge(user["role"])),
        rx.table.cell(
            rx.cond(user["is_active"], rx.badge("active", color_scheme="green"), rx.badge("disabled", color_scheme="red"))
        ),
        rx.table.cell(
            rx.button(
                rx.cond(user["is_active"], "Disable", "Enable"),
                on_click=AdminState.set_user_active(user["id"], ~user["is_active"].to(bool)),
                size="1",
                variant="soft",
            )
        ),
    )


def admin_page() -> rx.Component:
    return page_shell(
        admin_only(
            rx.vstack(
                rx.heading("Admin console", size="7", id="admin-heading"),
                rx.flex(
                    _stat("Users", AdminState.total_users),
                    _stat("Active users", AdminState.active_users),
                    spacing="4",
                    wrap="wrap",
                ),
                rx.box(
                    rx.table.root(
                        rx.table.header(
                            rx.table.row(
                                *[rx.table.column_header_cell(h) for h in ("Username", "Email", "Role", "Status", "")]
                            )
                        ),
                        rx.table.body(rx.foreach(AdminState.users, _user_row)),
                        width="100%",
                    ),
                    overflow_x="auto",
                    width="100%",
                ),
                spacing="5",
                width="100%",
            )
        )
    )
