"""Admin plans: what users get (image, CPUs, memory, storage, idle stop); create, edit, and choose the default."""

from __future__ import annotations

import reflex as rx

from saas_panel.components.forms import form_dialog, form_field
from saas_panel.components.table import confirm_dialog, header, table, toolbar
from saas_panel.pages.admin.console import admin_screen
from saas_panel.services.plans import IDLE_RANGE_MINUTES, NAME_MAX_CHARS, STORAGE_RANGE_MB
from saas_panel.services.validation import CPU_LIMIT_RANGE, MEM_LIMIT_RANGE_MB
from saas_panel.state.admin import PlansState as S
from saas_panel.state.admin.plans import OTHER_IMAGE


def _row(row: dict) -> rx.Component:
    name = row["name"].to(str)
    return rx.table.row(
        rx.table.row_header_cell(
            rx.hstack(
                rx.text(row["name"], weight="medium"),
                rx.cond(row["is_default"], rx.badge("default", color_scheme="iris", id="default-badge-" + name)),
                spacing="2",
                align="center",
            )
        ),
        rx.table.cell(rx.code(row["image"], size="1")),
        rx.table.cell(row["cpu_limit"], white_space="nowrap"),
        rx.table.cell(row["mem_limit_mb"], white_space="nowrap"),
        rx.table.cell(row["storage_mb"], white_space="nowrap"),
        rx.table.cell(row["idle_stop_minutes"], white_space="nowrap"),
        rx.table.cell(row["users"]),
        rx.table.cell(_actions(row, name)),
        id="plan-row-" + name,
        align="center",
    )


def _actions(row: dict, name) -> rx.Component:
    busy = S.pending != ""
    return rx.hstack(
        rx.button("Edit", size="1", variant="soft", on_click=S.open_edit(row["id"]), loading=S.pending == "edit:" + row["id"].to_string(), disabled=busy, id="edit-plan-" + name),
        rx.cond(
            ~row["is_default"],
            confirm_dialog(
                rx.button("Make default", size="1", variant="soft", color_scheme="gray", loading=S.pending == "default:" + row["id"].to_string(), disabled=busy, id="default-plan-" + name),
                "Make " + name + " the default plan?",
                "New accounts get it, and so do accounts without a plan of their own, when their container is next made.",
                "Make default",
                S.make_default(row["id"]),
                confirm_id="confirm-default-" + name,
            ),
        ),
        spacing="2",
    )


def _field(label: str, name: str, control: rx.Component) -> rx.Component:
    """A labelled control with what the panel found wrong in it underneath."""
    return rx.vstack(
        form_field(label, control),
        rx.cond(S.field_errors.contains(name), rx.text(S.field_errors[name], size="1", color_scheme="red", id=f"plan-{name}-error")),
        spacing="1",
        width="100%",
    )


def _number(label: str, name: str, bounds: tuple, step: float, **props) -> rx.Component:
    low, high = bounds
    control = rx.input(name=name, type="number", min=low, max=high, step=step, default_value=S.draft[name], id=f"plan-{name}", width="100%", **props)
    return _field(label, name, control)


def _image_field() -> rx.Component:
    """The engine's images in a menu; "Other image…" shows a text field (an engine that could not list them, a tag not shown)."""
    return _field(
        "Image",
        "image",
        rx.vstack(
            rx.select.root(
                rx.select.trigger(width="100%", id="plan-image"),
                rx.select.content(
                    rx.foreach(S.images, lambda tag: rx.select.item(tag, value=tag)),
                    rx.select.item("Other image…", value=OTHER_IMAGE),
                ),
                name="image",
                value=S.image_choice,
                on_change=S.choose_image,
            ),
            rx.cond(
                S.image_choice == OTHER_IMAGE,
                rx.input(name="image_other", default_value=S.draft["image"], placeholder="name:tag, already on the engine", id="plan-image-other", width="100%"),
            ),
            rx.cond(S.images_error != "", rx.text(S.images_error, size="1", color_scheme="gray")),
            spacing="2",
            width="100%",
        ),
    )


def _plan_fields(busy: rx.Var) -> list[rx.Component]:
    return [
        _field("Name", "name", rx.input(name="name", required=True, max_length=NAME_MAX_CHARS, default_value=S.draft["name"], id="plan-name", width="100%")),
        _image_field(),
        rx.grid(
            _number("CPUs", "cpu_limit", CPU_LIMIT_RANGE, 0.05),
            _number("Memory (MB)", "mem_limit_mb", MEM_LIMIT_RANGE_MB, 1),
            _number("Storage (MB)", "storage_mb", STORAGE_RANGE_MB, 1),
            _number("Idle stop (minutes)", "idle_stop_minutes", IDLE_RANGE_MINUTES, 1, placeholder="blank: the panel's"),
            columns="2",
            spacing="3",
            width="100%",
        ),
        rx.cond(busy, rx.text("Checking the image: a trial container is starting…", size="2", color_scheme="gray", id="plan-checking")),
    ]


def _plan_dialog(title, is_open: rx.Var, on_open_change, on_submit, submit: tuple[str, str], busy_key: str, trigger=None) -> rx.Component:
    """The new-plan and the edit dialogs: one form, the values in S.draft."""
    busy = S.pending == busy_key
    return form_dialog(
        title,
        _plan_fields(busy),
        on_submit,
        is_open=is_open,
        on_open_change=on_open_change,
        error=S.form_error,
        error_id="plan-error",
        submit=submit,
        busy=busy,
        trigger=trigger,
    )


def _table() -> rx.Component:
    headers = ["Name", "Image", "CPUs", "Memory", "Storage", "Idle stop", "Users", ""]
    return rx.cond(
        S.loaded,
        table([header(label) for label in headers], S.rows, _row, "No plans yet.", len(headers)),
        rx.center(rx.spinner(size="3"), padding="2rem", width="100%", id="plans-loading"),
    )


@admin_screen("plans", "Plans", "layers", on_load=(S.load,))
def plans_page() -> list[rx.Component]:
    return [
        toolbar(
            rx.text("A user's app gets their plan's image and limits when it is next created; an admin's own limits for a user win.", size="2", color_scheme="gray"),
            rx.spacer(),
            _plan_dialog(
                "New plan", S.create_open, S.open_create, S.create_plan, ("Create", "plan-submit"), "create",
                trigger=rx.button(rx.icon("plus", size=16), "New plan", id="new-plan"),
            ),
        ),
        _table(),
        _plan_dialog("Edit " + S.draft["name"].to(str), S.edit_open, S.set_edit_open, S.update_plan, ("Save", "plan-save"), "save"),
    ]
