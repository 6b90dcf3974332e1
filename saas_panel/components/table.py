"""Pieces shared by the admin tables: search box, filter menu, sortable header, pagination, confirm dialog.

A table's state provides: rows, total, page, pages, sort, descending, search,
a `<name>_filter` var per filter, pending, and the events set_search(value),
set_filter(name, value), sort_by(column) and go_to_page(page).
"""

from __future__ import annotations

import reflex as rx

from saas_panel.components.forms import select_items

# rx.input with both value= and on_change= is wrapped in Reflex's DebounceInput,
# which sends on_change 300 ms after the last keystroke: one query per pause, not per key.


def search_box(state, placeholder: str, id: str) -> rx.Component:
    return rx.input(
        value=state.search,
        on_change=state.set_search,
        placeholder=placeholder,
        max_length=100,
        type="search",
        id=id,
        width=["100%", "18rem"],
    )


def filter_select(state, name: str, options, label: str, id: str | None = None) -> rx.Component:
    """A menu of (value, label) options (see select_items) for the filter `name`; "all" means no
    filter (Radix forbids an empty value)."""
    return rx.select.root(
        rx.select.trigger(aria_label=label, id=id or f"filter-{name}", min_width="9rem"),
        rx.select.content(*select_items(options)),
        value=getattr(state, f"{name}_filter"),
        on_change=lambda value: state.set_filter(name, value),
    )


def text_filter(state, name: str, placeholder: str = "", **props) -> rx.Component:
    return rx.input(
        value=getattr(state, f"{name}_filter"),
        on_change=lambda value: state.set_filter(name, value),
        placeholder=placeholder,
        id=f"filter-{name}",
        max_length=128,
        **props,
    )


def sortable_header(state, label: str, column: str) -> rx.Component:
    """A header cell that sorts by `column` (click again to reverse), with an arrow when active."""
    arrow = rx.cond(
        state.sort == column,
        rx.icon(rx.cond(state.descending, "arrow-down", "arrow-up"), size=14),
        rx.icon("arrow-up-down", size=14, opacity="0.35"),
    )
    return rx.table.column_header_cell(
        rx.button(
            label,
            arrow,
            on_click=state.sort_by(column),
            variant="ghost",
            color_scheme="gray",
            size="1",
            high_contrast=True,
            id=f"sort-{column}",
        ),
        aria_sort=rx.cond(state.sort == column, rx.cond(state.descending, "descending", "ascending"), "none"),
        white_space="nowrap",
    )


def header(label: str = "") -> rx.Component:
    return rx.table.column_header_cell(label, white_space="nowrap")


def pagination(state, noun: str) -> rx.Component:
    return rx.flex(
        rx.text(state.total, f" {noun}", size="2", color_scheme="gray", id="table-total"),
        rx.spacer(),
        rx.hstack(
            rx.icon_button(
                rx.icon("chevron-left", size=16),
                on_click=state.go_to_page(state.page - 1),
                disabled=state.page <= 1,
                variant="soft",
                aria_label="Previous page",
                id="page-prev",
            ),
            rx.text("Page ", state.page, " of ", state.pages, size="2", id="page-label", white_space="nowrap"),
            rx.icon_button(
                rx.icon("chevron-right", size=16),
                on_click=state.go_to_page(state.page + 1),
                disabled=state.page >= state.pages,
                variant="soft",
                aria_label="Next page",
                id="page-next",
            ),
            align="center",
            spacing="2",
        ),
        align="center",
        width="100%",
        spacing="2",
        wrap="wrap",
    )


def table(headers: list[rx.Component], rows, row: callable, empty_text: str, columns: int) -> rx.Component:
    """A scrollable table; an empty state row when `rows` is empty."""
    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(*headers)),
            rx.table.body(
                rx.cond(
                    rows.length() > 0,
                    rx.foreach(rows, row),
                    rx.table.row(
                        rx.table.cell(
                            rx.center(rx.text(empty_text, color_scheme="gray", size="2"), padding="1.5rem"),
                            col_span=columns,
                        ),
                        id="table-empty",
                    ),
                )
            ),
            variant="surface",
            size="1",
            width="100%",
        ),
        overflow_x="auto",
        width="100%",
    )


def confirm_dialog(trigger: rx.Component, title: str, description, confirm_label: str, on_confirm, confirm_id: str | None = None) -> rx.Component:
    """Ask before a destructive action; the red button runs `on_confirm`."""
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(trigger),
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(description, size="2"),
            rx.flex(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(rx.button(confirm_label, color_scheme="red", on_click=on_confirm, id=confirm_id)),
                spacing="3",
                justify="end",
                margin_top="1rem",
            ),
            max_width="28rem",
        ),
    )


def toolbar(*children: rx.Component) -> rx.Component:
    return rx.flex(*children, spacing="2", wrap="wrap", align="center", width="100%")
