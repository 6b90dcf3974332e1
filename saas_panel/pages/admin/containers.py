"""Admin containers: search, filters, sort, paging, per-row and bulk actions, and a detail dialog."""

from __future__ import annotations

import reflex as rx

from saas_panel.components.status import node_down_badge, status_badge
from saas_panel.components.table import confirm_dialog, filter_select, header, pagination, search_box, sortable_header, table, text_filter, toolbar
from saas_panel.models import ContainerState
from saas_panel.pages.admin.console import admin_screen
from saas_panel.state.admin import ContainersState as S

STATE_OPTIONS = [("all", "Any state")] + [(s.value, s.value.capitalize()) for s in ContainerState]
ACTION_LOOK = {  # action: (label, icon, color, needs confirmation)
    "start": ("Start", "play", "green", False),
    "stop": ("Stop", "square", "gray", True),
    "restart": ("Restart", "rotate-cw", "indigo", False),
    "delete": ("Delete", "trash-2", "red", True),
}
CONFIRM_TEXT = {
    "stop": "The owner's app stops answering until the container is started again.",
    "delete": "The container is removed (the owner's files in /data are kept). The owner can get a new one from their dashboard.",
}


def _row_action(row: dict, action: str) -> rx.Component:
    label, icon, color, confirm = ACTION_LOOK[action]
    name = row["name"].to(str)
    button = rx.icon_button(
        rx.icon(icon, size=15),
        on_click=None if confirm else S.act(row["id"], action),
        loading=S.pending == action + ":" + row["id"].to_string(),
        disabled=S.pending != "",
        color_scheme=color,
        variant="soft",
        size="1",
        aria_label=label,
        title=label,  # a native tooltip: a Radix one would swallow a dialog trigger's click
        id=f"{action}-" + row["owner"].to(str),
    )
    if not confirm:
        return button
    return confirm_dialog(button, label + " " + name + "?", CONFIRM_TEXT[action], label, S.act(row["id"], action), confirm_id=f"confirm-{action}-" + row["owner"].to(str))


def _row(row: dict) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.checkbox(
                checked=S.selected.contains(row["id"]),
                on_change=lambda checked: S.toggle(row["id"], checked),
                aria_label="Select " + row["name"].to(str),
            )
        ),
        rx.table.row_header_cell(
            rx.link(row["name"], on_click=S.open_detail(row["id"]), cursor="pointer", weight="medium", id="detail-" + row["owner"].to(str))
        ),
        rx.table.cell(rx.cond(row["owner"] != "", row["owner"], rx.text("(deleted)", color_scheme="gray"))),
        rx.table.cell(rx.code(row["image"], size="1")),
        rx.table.cell(
            rx.hstack(status_badge(row["state"]), rx.cond(row["node_down"], node_down_badge()), spacing="1", wrap="wrap"),
            id="state-" + row["owner"].to(str),
        ),
        rx.table.cell(row["node"], white_space="nowrap", id="node-" + row["owner"].to(str)),
        rx.table.cell(row["host_port"]),
        rx.table.cell(row["created_at"], white_space="nowrap"),
        rx.table.cell(row["started_at"], white_space="nowrap"),
        rx.table.cell(row["last_activity_at"], white_space="nowrap"),
        rx.table.cell(row["storage_used_bytes"], white_space="nowrap", id="storage-" + row["owner"].to(str)),
        rx.table.cell(rx.hstack(*[_row_action(row, action) for action in ACTION_LOOK], spacing="2")),
        id="container-row-" + row["owner"].to(str),
        align="center",
    )


def _bulk_button(action: str) -> rx.Component:
    label, icon, color, confirm = ACTION_LOOK[action]
    button = rx.button(
        rx.icon(icon, size=14),
        label,
        on_click=None if confirm else S.bulk(action),
        loading=S.pending == "bulk",
        disabled=(S.pending != "") | (S.selected_count == 0),
        color_scheme=color,
        variant="soft",
        size="1",
        id=f"bulk-{action}",
    )
    if not confirm:
        return button
    return confirm_dialog(
        button,
        rx.text(label, " ", S.selected_count, " containers?"),
        CONFIRM_TEXT[action],
        label,
        S.bulk(action),
        confirm_id=f"confirm-bulk-{action}",
    )


def _bulk_bar() -> rx.Component:
    return rx.flex(
        rx.checkbox(
            checked=S.page_all_selected,
            on_change=S.toggle_page,
            aria_label="Select all on this page",
            id="select-page",
        ),
        rx.text(S.selected_count, " selected", size="2", color_scheme="gray", id="selected-count"),
        *[_bulk_button(action) for action in ACTION_LOOK],
        spacing="2",
        wrap="wrap",
        align="center",
    )


def _info(label: str, key: str) -> rx.Component:
    return rx.data_list.item(rx.data_list.label(label), rx.data_list.value(S.detail[key].to(str)))


def _detail_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.flex(
                rx.dialog.title(S.detail["name"].to(str), margin="0"),
                rx.spacer(),
                rx.dialog.close(rx.icon_button(rx.icon("x", size=16), variant="ghost", aria_label="Close")),
                align="center",
                width="100%",
            ),
            rx.data_list.root(
                _info("Owner", "owner"),
                _info("State (panel)", "state"),
                _info("State (engine)", "engine_state"),
                _info("Engine id", "engine_id"),
                _info("Image", "image"),
                _info("Port", "host_port"),
                _info("Node", "node"),
                _info("Memory", "mem_limit_mb"),
                _info("CPU", "cpu_limit"),
                _info("PIDs", "pids_limit"),
                _info("Created", "created_at"),
                _info("Started", "started_at"),
                size="1",
                margin_y="0.75rem",
                orientation=rx.breakpoints(initial="vertical", sm="horizontal"),
            ),
            rx.cond(S.detail["error"].to(str) != "", rx.callout(S.detail["error"].to(str), icon="circle-alert", color_scheme="red", size="1")),
            rx.flex(
                rx.foreach(S.detail_labels, lambda pair: rx.badge(pair[0], "=", pair[1], variant="outline", color_scheme="gray")),
                spacing="1",
                wrap="wrap",
            ),
            rx.flex(
                rx.text("Last log lines", size="2", weight="medium"),
                rx.spacer(),
                rx.button(rx.icon("refresh-cw", size=14), "Refresh", on_click=S.refresh_detail, size="1", variant="soft", id="detail-refresh"),
                align="center",
                margin_top="0.75rem",
            ),
            rx.box(
                rx.el.pre(S.detail["logs"].to(str), font_size="var(--font-size-1)", font_family="var(--code-font-family)", white_space="pre-wrap", word_break="break-all", margin="0"),
                max_height="18rem",
                overflow="auto",
                padding="0.5rem",
                margin_top="0.5rem",
                border_radius="var(--radius-2)",
                background=rx.color("gray", 3),
                id="detail-logs",
            ),
            max_width="46rem",
            width="100%",
        ),
        open=S.detail_open,
        on_open_change=S.set_detail_open,
    )


@admin_screen("containers", "Containers", "container", on_load=(S.load,))
def containers_page() -> list[rx.Component]:
    return [
        toolbar(
            search_box(S, "Search name or owner", "container-search"),
            filter_select(S, "state", STATE_OPTIONS, "State"),
            text_filter(S, "owner", "Owner", width=["100%", "10rem"]),
            text_filter(S, "image", "Image", width=["100%", "12rem"]),
            text_filter(S, "node", "Node", width=["100%", "10rem"]),
        ),
        _bulk_bar(),
        table(
            [
                header(""),
                sortable_header(S, "Name", "name"),
                sortable_header(S, "Owner", "owner"),
                sortable_header(S, "Image", "image"),
                sortable_header(S, "State", "state"),
                sortable_header(S, "Node", "node"),
                sortable_header(S, "Port", "host_port"),
                sortable_header(S, "Created", "created_at"),
                sortable_header(S, "Started", "started_at"),
                sortable_header(S, "Last activity", "last_activity_at"),
                sortable_header(S, "Storage", "storage"),
                header("Actions"),
            ],
            S.rows,
            _row,
            "No containers match.",
            12,
        ),
        pagination(S, "containers"),
        _detail_dialog(),
    ]
