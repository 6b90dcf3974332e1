"""Admin API tokens: list, create with scope and expiry (shown once), revoke."""

from __future__ import annotations

import reflex as rx

from saas_panel.components.forms import create_dialog, form_field, secret_dialog, select_field
from saas_panel.components.table import confirm_dialog, header, table, toolbar
from saas_panel.pages.admin.console import admin_screen
from saas_panel.services.api_tokens import EXPIRY_DAYS_RANGE
from saas_panel.state.admin import TokensState as S
from saas_panel.state.admin.tokens import NEW_TOKEN

STATUS_COLORS = {"active": "green", "expired": "gray", "revoked": "red"}


def _row(row: dict) -> rx.Component:
    name = row["name"].to(str)
    return rx.table.row(
        rx.table.row_header_cell(rx.text(row["name"], weight="medium")),
        rx.table.cell(rx.code(row["prefix"].to(str) + "…", size="1")),
        rx.table.cell(rx.badge(row["scope"], color_scheme=rx.cond(row["scope"] == "admin", "iris", "gray"))),
        rx.table.cell(row["owner"]),
        rx.table.cell(row["created_at"], white_space="nowrap"),
        rx.table.cell(row["expires_at"], white_space="nowrap"),
        rx.table.cell(row["last_used_at"], white_space="nowrap"),
        rx.table.cell(rx.badge(row["status"], color_scheme=rx.match(row["status"], *STATUS_COLORS.items(), "gray"))),
        rx.table.cell(
            rx.cond(
                row["status"] == "active",
                confirm_dialog(
                    rx.button("Revoke", size="1", variant="soft", color_scheme="red", loading=S.pending == "revoke:" + row["id"].to_string(), id="revoke-" + name),
                    "Revoke " + name + "?",
                    "Anything using this token loses access at once. This cannot be undone.",
                    "Revoke",
                    S.revoke(row["id"]),
                    confirm_id="confirm-revoke-" + name,
                ),
            )
        ),
        id="token-row-" + name,
        align="center",
    )


def _create_dialog() -> rx.Component:
    low, high = EXPIRY_DAYS_RANGE
    return create_dialog(
        S,
        rx.button(rx.icon("key-round", size=16), "New token", id="new-token"),
        "New API token",
        [
            form_field("Name", rx.input(name="name", required=True, max_length=64, placeholder="e.g. billing sync", id="token-name", width="100%")),
            select_field("Scope", "scope", [("read", "Read: GET routes only"), ("admin", "Admin: everything"), ("metrics", "Metrics: GET /metrics only (Prometheus)")], "read", id="token-scope"),
            form_field("Expires in (days)", rx.input(name="expires_in_days", type="number", min=low, max=high, step=1, default_value="90", id="token-days", width="100%")),
        ],
        S.create_token,
        "token-error",
        "token-submit",
    )


def _token_dialog() -> rx.Component:
    return secret_dialog(
        ("Token ", S.new_token_name),
        "Copy it now: only its hash is stored, so it cannot be shown again.",
        NEW_TOKEN,
        "new-token-value",
        "token-done",
        "32rem",
        size="2",
        overflow_wrap="anywhere",
    )


@admin_screen("tokens", "API tokens", "key-round", on_load=(S.load,))
def tokens_page() -> list[rx.Component]:
    return [
        toolbar(
            rx.text("Use a token as ", rx.code("Authorization: Bearer <token>"), " with the API documented at ", rx.link("/docs", href="/docs", is_external=True), ".", size="2", color_scheme="gray"),
            rx.spacer(),
            _create_dialog(),
        ),
        table(
            [header("Name"), header("Token"), header("Scope"), header("Created by"), header("Created"), header("Expires"), header("Last used"), header("Status"), header("")],
            S.rows,
            _row,
            "No API tokens yet.",
            9,
        ),
        _token_dialog(),
    ]
