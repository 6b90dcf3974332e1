"""Admin alerts: firing and recent alerts, the threshold rules (create, edit, delete), the webhook deliveries."""

from __future__ import annotations

import reflex as rx

from saas_panel.components.forms import create_dialog, form_dialog, form_field, secret_dialog, select_field
from saas_panel.components.table import confirm_dialog, header, table
from saas_panel.pages.admin.console import admin_screen
from saas_panel.services.alert_rules import FOR_SECONDS_RANGE, NAME_MAX_CHARS, URL_MAX_CHARS
from saas_panel.services.webhooks import SIGNATURE_HEADER
from saas_panel.state.admin import AlertsState as S
from saas_panel.state.admin.alerts import NEW_WEBHOOK_SECRET

METRICS = [("cpu", "CPU (% of one core)"), ("memory", "Memory (% of the limit)"), ("storage", "Storage (% of the quota)")]
SCOPES = [("everyone", "Everyone"), ("user", "One user"), ("plan", "A plan's users")]


def _rule_fields(draft: dict | None = None) -> list[rx.Component]:
    """The rule form; `draft` (the edit form) gives each field its current value."""
    value = (lambda name, default="": draft[name]) if draft is not None else (lambda name, default="": default)
    return [
        form_field("Name", rx.input(name="name", required=True, max_length=NAME_MAX_CHARS, default_value=value("name"), id="rule-name", width="100%")),
        select_field("Metric", "metric", METRICS, value("metric", "memory"), id="rule-metric"),
        rx.grid(
            form_field("Above (%)", rx.input(name="threshold", type="number", min=1, step="any", required=True, default_value=value("threshold", "90"), id="rule-threshold", width="100%")),
            form_field("For (seconds)", rx.input(name="for_seconds", type="number", min=FOR_SECONDS_RANGE[0], max=FOR_SECONDS_RANGE[1], step=1, default_value=value("for_seconds", "60"), id="rule-for", width="100%")),
            columns="2",
            spacing="3",
            width="100%",
        ),
        select_field("Applies to", "scope", SCOPES, value("scope", "everyone"), id="rule-scope"),
        form_field("User or plan name (one user, a plan)", rx.input(name="scope_target", max_length=64, default_value=value("scope_target"), id="rule-target", width="100%")),
        form_field(
            "Webhook URL (optional)",
            rx.input(name="webhook_url", type="url", max_length=URL_MAX_CHARS, placeholder="https://… (blank: keep as it is)" if draft is not None else "https://…", id="rule-webhook", width="100%"),
        ),
    ]


def _edit_extras() -> list[rx.Component]:
    return [
        rx.cond(S.editing_has_webhook, rx.checkbox("Remove the webhook", name="remove_webhook", id="rule-remove-webhook")),
        rx.checkbox("Enabled (unticked: its firing alerts resolve)", name="enabled", default_checked=S.draft["enabled"] == "on", id="rule-enabled"),
    ]


def _rule_row(row: dict) -> rx.Component:
    name = row["name"].to(str)
    busy = S.pending != ""
    return rx.table.row(
        rx.table.row_header_cell(rx.text(row["name"], weight="medium")),
        rx.table.cell(rx.code(row["condition"], size="1"), white_space="nowrap"),
        rx.table.cell(row["scope_label"]),
        rx.table.cell(rx.cond(row["webhook"] != "", rx.code(row["webhook"], size="1"), "—")),
        rx.table.cell(rx.badge(rx.cond(row["enabled"], "on", "off"), color_scheme=rx.cond(row["enabled"], "green", "gray"))),
        rx.table.cell(
            rx.hstack(
                rx.button("Edit", size="1", variant="soft", on_click=S.open_edit(row["id"]), loading=S.pending == "edit:" + row["id"].to_string(), disabled=busy, id="edit-rule-" + name),
                confirm_dialog(
                    rx.button("Delete", size="1", variant="soft", color_scheme="red", loading=S.pending == "delete:" + row["id"].to_string(), disabled=busy, id="delete-rule-" + name),
                    "Delete " + name + "?",
                    "Its alerts, firing or not, and their webhook log go with it.",
                    "Delete",
                    S.delete_rule(row["id"]),
                    confirm_id="confirm-delete-rule-" + name,
                ),
                spacing="2",
            )
        ),
        id="rule-row-" + name,
        align="center",
    )


def _alert_row(row: dict) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.badge(row["state"], color_scheme=rx.cond(row["state"] == "firing", "red", "green"))),
        rx.table.cell(row["rule"]),
        rx.table.cell(row["username"]),
        rx.table.cell(row["condition"], white_space="nowrap"),
        rx.table.cell(row["fired_at"], white_space="nowrap"),
        rx.table.cell(row["resolved_at"], white_space="nowrap"),
        id="alert-row-" + row["id"].to_string(),
        align="center",
    )


def _delivery_row(row: dict) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row["created_at"], white_space="nowrap"),
        rx.table.cell(row["rule"]),
        rx.table.cell(row["username"]),
        rx.table.cell(row["event"]),
        rx.table.cell(rx.code(row["host"], size="1")),
        rx.table.cell(row["attempts"]),
        rx.table.cell(row["status_code"]),
        rx.table.cell(
            rx.badge(
                rx.cond(row["delivered"], "delivered", rx.cond(row["pending"], "retrying", "failed")),
                color_scheme=rx.cond(row["delivered"], "green", rx.cond(row["pending"], "orange", "red")),
            ),
            rx.text(row["error"], size="1", color_scheme="gray"),
        ),
        align="center",
    )


def _section(title: str, description: str, *children: rx.Component) -> rx.Component:
    return rx.vstack(rx.heading(title, size="4"), rx.text(description, size="2", color_scheme="gray"), *children, spacing="2", width="100%")


def _secret_dialog() -> rx.Component:
    return secret_dialog(
        ("Webhook secret of ", S.new_secret_rule),
        f"The receiver checks {SIGNATURE_HEADER}: sha256=HMAC-SHA256(secret, body). Copy it now: it is not shown again.",
        NEW_WEBHOOK_SECRET,
        "new-webhook-secret",
        "secret-done",
        "32rem",
        size="2",
        overflow_wrap="anywhere",
    )


@admin_screen("alerts", "Alerts", "bell", on_load=(S.load,))
def alerts_page() -> list[rx.Component]:
    loading = rx.center(rx.spinner(size="3"), padding="2rem", width="100%")
    return [
        _section(
            "Alerts",
            "Firing first, then the latest resolved. Each also shows on the user's timeline.",
            rx.cond(S.loaded, table([header(h) for h in ("State", "Rule", "User", "Value", "Fired", "Resolved")], S.alerts, _alert_row, "No alerts yet.", 6), loading),
        ),
        _section(
            "Rules",
            "The collector checks every enabled rule at each sweep: a user's app above the threshold for the whole duration fires an alert.",
            rx.flex(
                create_dialog(S, rx.button(rx.icon("plus", size=16), "New rule", id="new-rule"), "New alert rule", _rule_fields(), S.create_rule, "rule-error", "rule-submit"),
                justify="end",
                width="100%",
            ),
            table([header(h) for h in ("Name", "Condition", "Applies to", "Webhook", "Enabled", "")], S.rules, _rule_row, "No alert rules yet.", 6),
        ),
        _section(
            "Webhook deliveries",
            "Each alert event POSTed to its rule's webhook, after up to five attempts (1, 2, 4, 8 s apart).",
            table([header(h) for h in ("Time", "Rule", "User", "Event", "Host", "Attempts", "Status", "Outcome")], S.deliveries, _delivery_row, "No deliveries yet.", 8),
        ),
        form_dialog(
            "Edit " + S.draft["name"].to(str),
            _rule_fields(S.draft) + _edit_extras(),
            S.update_rule,
            is_open=S.edit_open,
            on_open_change=S.set_edit_open,
            submit=("Save", "rule-save"),
            busy=S.pending == "save",
            error=S.edit_error,
            error_id="rule-edit-error",
        ),
        _secret_dialog(),
    ]
