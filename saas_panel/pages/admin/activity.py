"""Admin activity log: every action with actor, target, IP, time and outcome; filters and CSV export."""

from __future__ import annotations

import reflex as rx

from saas_panel.components.table import filter_select, header, pagination, search_box, table, text_filter, toolbar
from saas_panel.models import Outcome
from saas_panel.pages.admin.console import admin_screen
from saas_panel.state.admin import ActivityState as S

OUTCOME_OPTIONS = [("all", "Any outcome")] + [(o.value, o.value.capitalize()) for o in Outcome]
OUTCOME_COLORS = {"success": "green", "failure": "red", "denied": "orange"}


def _row(row: dict) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row["time"], white_space="nowrap"),
        rx.table.cell(row["actor"]),
        rx.table.cell(rx.code(row["action"], size="1")),
        rx.table.cell(row["target"]),
        rx.table.cell(row["ip"], white_space="nowrap"),
        rx.table.cell(rx.badge(row["outcome"], color_scheme=rx.match(row["outcome"], *OUTCOME_COLORS.items(), "gray"))),
        rx.table.cell(rx.text(row["details"], size="1", color_scheme="gray", max_width="22rem", overflow_wrap="anywhere")),
    )


def _action_select() -> rx.Component:
    return rx.select.root(
        rx.select.trigger(aria_label="Action", id="filter-action", min_width="9rem"),
        rx.select.content(
            rx.select.item("Any action", value="all"),
            rx.foreach(S.actions, lambda action: rx.select.item(action, value=action)),
        ),
        value=S.action_filter,
        on_change=lambda v: S.set_filter("action", v),
    )


def _date(label: str, name: str) -> rx.Component:
    return rx.flex(
        rx.text(label, size="2", color_scheme="gray", as_="label", html_for=f"filter-{name}"),
        text_filter(S, name, type="date"),
        spacing="1",
        align="center",
    )


@admin_screen("activity", "Activity", "scroll-text", heading="Activity log", on_load=(S.load,))
def activity_page() -> list[rx.Component]:
    return [
        toolbar(
            search_box(S, "Search all fields", "activity-search"),
            text_filter(S, "actor", "Actor", width=["100%", "9rem"]),
            _action_select(),
            text_filter(S, "target", "Target", width=["100%", "9rem"]),
            filter_select(S, "outcome", OUTCOME_OPTIONS, "Outcome"),
        ),
        toolbar(
            _date("From", "date_from"),
            _date("To", "date_to"),
            rx.button(rx.icon("x", size=14), "Clear filters", on_click=S.clear_filters, variant="soft", color_scheme="gray", size="2", id="clear-filters"),
            rx.spacer(),
            rx.button(
                rx.icon("download", size=16),
                "Export CSV",
                on_click=S.export_csv,
                loading=S.pending == "export",
                disabled=(S.pending != "") | (S.total == 0),
                variant="soft",
                id="export-csv",
            ),
        ),
        rx.cond(S.error != "", rx.callout(S.error, icon="triangle-alert", color_scheme="red", id="activity-error")),
        table(
            [header("Time (UTC)"), header("Actor"), header("Action"), header("Target"), header("IP"), header("Outcome"), header("Details")],
            S.rows,
            _row,
            "No activity matches.",
            7,
        ),
        pagination(S, "entries"),
    ]
