"""Admin users: search, filters, sort and paging (all in SQL), and per-account actions."""

from __future__ import annotations

import reflex as rx

from saas_panel.components.forms import create_dialog, dialog_buttons, form_dialog, form_field, secret_dialog, select_field
from saas_panel.components.status import status_badge
from saas_panel.components.table import confirm_dialog, filter_select, header, pagination, search_box, sortable_header, table, toolbar
from saas_panel.models import ContainerState
from saas_panel.pages.admin.console import admin_screen
from saas_panel.presentation import PLACEHOLDER
from saas_panel.state.admin import UsersState as S
from saas_panel.state.admin.users import ONE_TIME_PASSWORD

ROLE_OPTIONS = [("all", "All roles"), ("admin", "Admins"), ("user", "Users")]
STATUS_OPTIONS = [("all", "Any status"), ("active", "Active"), ("disabled", "Disabled")]
CONTAINER_OPTIONS = [("all", "Any container"), ("none", "No container")] + [(s.value, s.value.capitalize()) for s in ContainerState]


def _busy(key) -> rx.Var:
    return S.pending == key


def _icon_action(icon: str, label: str, key, id, **props) -> rx.Component:
    return rx.icon_button(
        rx.icon(icon, size=15),
        loading=_busy(key),
        disabled=S.pending != "",
        variant="soft",
        size="1",
        aria_label=label,
        title=label,  # a native tooltip: a Radix one would swallow a dialog trigger's click
        id=id,
        **props,
    )


def _actions(row: dict) -> rx.Component:
    uid = row["id"].to_string()
    name = row["username"].to(str)
    return rx.hstack(
        rx.cond(
            row["is_active"],
            confirm_dialog(
                _icon_action("user-x", "Disable", "active:" + uid, "disable-" + name, color_scheme="orange"),
                "Disable " + name + "?",
                "They are logged out at once and their container is stopped. You can enable the account again later.",
                "Disable",
                S.set_active(row["id"], False),
                confirm_id="confirm-disable-" + name,
            ),
            _icon_action("user-check", "Enable", "active:" + uid, "enable-" + name, color_scheme="green", on_click=S.set_active(row["id"], True)),
        ),
        rx.cond(
            row["role"] == "admin",
            _icon_action("shield-minus", "Demote to user", "role:" + uid, "demote-" + name, on_click=S.set_role(row["id"], "user")),
            _icon_action("shield-plus", "Promote to admin", "role:" + uid, "promote-" + name, on_click=S.set_role(row["id"], "admin")),
        ),
        confirm_dialog(
            _icon_action("key-round", "Reset password", "password:" + uid, "reset-" + name),
            "Reset the password of " + name + "?",
            "A new password is generated and shown to you once. Their current sessions end.",
            "Reset password",
            S.reset_password(row["id"]),
            confirm_id="confirm-reset-" + name,
        ),
        rx.cond(
            row["idle_exempt"],
            _icon_action("timer", "Stop when idle", "idle:" + uid, "idle-stop-" + name, on_click=S.set_idle_exempt(row["id"], False)),
            _icon_action("timer-off", "Never stop when idle", "idle:" + uid, "idle-exempt-" + name, on_click=S.set_idle_exempt(row["id"], True)),
        ),
        _icon_action("sliders-horizontal", "Edit limits", "limits:" + uid, "limits-" + name, on_click=S.open_limits(row["id"])),
        _icon_action("layers", "Change plan", "plan:" + uid, "change-plan-" + name, on_click=S.open_plan_change(row["id"])),
        _icon_action("folder-down", "Download files", "export:" + uid, "download-data-" + name, on_click=S.download_data(row["id"])),
        confirm_dialog(
            _icon_action("folder-x", "Remove files", "data:" + uid, "remove-data-" + name, color_scheme="red"),
            "Remove the files of " + name + "?",
            "Their container is removed and every file in their /data goes with it. The account stays; their next container starts empty. This cannot be undone.",
            "Remove files",
            S.remove_data(row["id"]),
            confirm_id="confirm-remove-data-" + name,
        ),
        confirm_dialog(
            _icon_action("trash-2", "Delete", "delete:" + uid, "delete-" + name, color_scheme="red"),
            "Delete " + name + "?",
            "Their container, their files in /data and their account are removed. Their activity stays in the log. This cannot be undone.",
            "Delete",
            S.delete_user(row["id"]),
            confirm_id="confirm-delete-" + name,
        ),
        spacing="2",
    )


def _limits_text(row: dict) -> rx.Component:
    return rx.text(
        rx.cond(row["mem_limit_mb"], row["mem_limit_mb"].to_string() + " MB", "default"),
        " · ",
        rx.cond(row["cpu_limit"], row["cpu_limit"].to_string() + " CPU", "default"),
        size="1",
        color_scheme="gray",
        white_space="nowrap",
    )


def _row(row: dict) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.text(row["username"], weight="medium")),
        rx.table.cell(row["email"]),
        rx.table.cell(rx.badge(row["role"], color_scheme=rx.cond(row["role"] == "admin", "iris", "gray"))),
        rx.table.cell(
            rx.hstack(
                rx.cond(row["is_active"], rx.badge("active", color_scheme="green"), rx.badge("disabled", color_scheme="red")),
                rx.cond(row["idle_exempt"], rx.badge("never idle-stopped", color_scheme="amber", id="idle-exempt-badge-" + row["username"].to(str))),
                spacing="1",
            )
        ),
        rx.table.cell(rx.cond(row["container_state"] == "none", rx.text(PLACEHOLDER, color_scheme="gray"), status_badge(row["container_state"]))),
        rx.table.cell(_limits_text(row)),
        rx.table.cell(row["plan"], white_space="nowrap"),
        rx.table.cell(row["storage_used_bytes"], white_space="nowrap"),
        rx.table.cell(row["created_at"], white_space="nowrap"),
        rx.table.cell(row["last_login_at"], white_space="nowrap"),
        rx.table.cell(_actions(row)),
        id="user-row-" + row["username"].to(str),
        align="center",
    )


def _create_dialog() -> rx.Component:
    return create_dialog(
        S,
        rx.button(rx.icon("user-plus", size=16), "New user", id="new-user"),
        "New user",
        [
            form_field("Username", rx.input(name="username", required=True, max_length=32, id="new-username", width="100%")),
            form_field("Email", rx.input(name="email", type="email", required=True, id="new-email", width="100%")),
            form_field("Password", rx.input(name="password", type="password", placeholder="blank: generate one, shown once", id="new-password", width="100%")),
            select_field("Role", "role", [("user", "User"), ("admin", "Admin")], "user"),
            rx.text(rx.flex(rx.checkbox(name="provision", id="new-provision"), "Create their container now", spacing="2"), as_="label", size="2"),
        ],
        S.create_user,
        "create-error",
        "create-submit",
    )


def _limits_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Limits for ", S.limits_user["username"].to(str)),
            rx.dialog.description("Leave a field blank for the default. Applied to a running container at once.", size="2"),
            rx.form(
                rx.vstack(
                    form_field("Memory (MB)", rx.input(name="mem_limit_mb", type="number", min=32, step=1, default_value=S.limits_user["mem_limit_mb"].to_string(), id="limit-mem", width="100%")),
                    form_field("CPUs", rx.input(name="cpu_limit", type="number", min=0.05, step=0.05, default_value=S.limits_user["cpu_limit"].to_string(), id="limit-cpu", width="100%")),
                    dialog_buttons("Save", "limits-submit"),
                    spacing="3",
                    margin_top="0.75rem",
                ),
                on_submit=S.save_limits,
            ),
            max_width="24rem",
        ),
        open=S.limits_open,
        on_open_change=S.set_limits_open,
    )


def _plan_dialog() -> rx.Component:
    return form_dialog(
        "Change the plan of " + S.plan_user["username"].to(str),
        [
            select_field("Plan", "plan_id", S.plan_choices, S.plan_choice, id="change-plan-select"),
            rx.callout(
                "Their app is recreated on the plan's image and limits: it restarts, and their files in /data are kept.",
                icon="triangle-alert",
                color_scheme="amber",
                size="1",
            ),
        ],
        S.change_plan,
        is_open=S.plan_open,
        on_open_change=S.set_plan_open,
        submit=("Change plan", "change-plan-submit"),
        busy=False,  # the dialog closes at once; the row's button spins while the app is recreated
    )


def _password_dialog() -> rx.Component:
    return secret_dialog(
        ("One-time password for ", S.one_time_password_user),
        "Give it to the user now: it is not stored and will not be shown again.",
        ONE_TIME_PASSWORD,
        "one-time-password",
        "password-done",
        "26rem",
        size="4",
    )


@admin_screen("users", "Users", "users", on_load=(S.load,))
def users_page() -> list[rx.Component]:
    return [
        toolbar(
            search_box(S, "Search username or email", "user-search"),
            filter_select(S, "role", ROLE_OPTIONS, "Role"),
            filter_select(S, "status", STATUS_OPTIONS, "Status"),
            filter_select(S, "container_state", CONTAINER_OPTIONS, "Container state", id="filter-container"),
            filter_select(S, "plan", S.plan_filter_options, "Plan"),
            rx.spacer(),
            _create_dialog(),
        ),
        table(
            [
                sortable_header(S, "Username", "username"),
                sortable_header(S, "Email", "email"),
                sortable_header(S, "Role", "role"),
                header("Status"),
                sortable_header(S, "Container", "container_state"),
                header("Limits"),
                sortable_header(S, "Plan", "plan"),
                sortable_header(S, "Storage", "storage"),
                sortable_header(S, "Created", "created_at"),
                sortable_header(S, "Last login", "last_login_at"),
                header("Actions"),
            ],
            S.rows,
            _row,
            "No users match.",
            11,
        ),
        pagination(S, "users"),
        _limits_dialog(),
        _plan_dialog(),
        _password_dialog(),
    ]
