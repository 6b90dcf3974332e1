"""Pieces shared by the admin dialogs: labelled fields, the Cancel/submit row, a dialog around a form (a "New …" one), and a show-once secret."""

from __future__ import annotations

import reflex as rx


def form_field(label: str, control: rx.Component) -> rx.Component:
    return rx.vstack(rx.text(label, size="2", weight="medium"), control, spacing="1", width="100%")


def select_items(options) -> list[rx.Component]:
    """A menu's items from (value, label) pairs: a list, or a state var of [value, label] lists."""
    if isinstance(options, rx.Var):
        return [rx.foreach(options, lambda option: rx.select.item(option[1], value=option[0]))]
    return [rx.select.item(text, value=key) for key, text in options]


def select_field(label: str, name: str, options, default, id: str | None = None) -> rx.Component:
    """A form menu of (value, label) options (see select_items)."""
    return form_field(
        label,
        rx.select.root(
            rx.select.trigger(width="100%", id=id),
            rx.select.content(*select_items(options)),
            name=name,
            default_value=default,
        ),
    )


def dialog_buttons(submit_label: str, submit_id: str, **submit_props) -> rx.Component:
    """Cancel (closes the dialog) and the form's submit button, right-aligned."""
    return rx.flex(
        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
        rx.button(submit_label, type="submit", id=submit_id, **submit_props),
        spacing="3",
        justify="end",
        width="100%",
    )


def form_dialog(
    title,
    fields: list[rx.Component],
    on_submit,
    *,
    is_open: rx.Var,
    on_open_change,
    submit: tuple[str, str],
    busy: rx.Var | bool,
    error: rx.Var | None = None,
    error_id: str = "",
    trigger: rx.Component | None = None,
) -> rx.Component:
    """A dialog around a form: open while `is_open`, `error` (when given and not empty) above the
    fields, and the submit button (label, id) spinning while `busy`."""
    shown_error = [] if error is None else [rx.cond(error != "", rx.callout(error, icon="triangle-alert", color_scheme="red", id=error_id))]
    return rx.dialog.root(
        *([rx.dialog.trigger(trigger)] if trigger is not None else []),
        rx.dialog.content(
            rx.dialog.title(title),
            rx.form(
                rx.vstack(
                    *shown_error,
                    *fields,
                    dialog_buttons(*submit, loading=busy),
                    spacing="3",
                ),
                on_submit=on_submit,
                reset_on_submit=False,
            ),
            max_width="26rem",
        ),
        open=is_open,
        on_open_change=on_open_change,
    )


def create_dialog(state, trigger: rx.Component, title: str, fields: list[rx.Component], on_submit, error_id: str, submit_id: str) -> rx.Component:
    """The dialog behind a "New …" button: open while `state.create_open`, its error in `state.create_error`."""
    return form_dialog(
        title,
        fields,
        on_submit,
        is_open=state.create_open,
        on_open_change=state.open_create,
        error=state.create_error,
        error_id=error_id,
        submit=("Create", submit_id),
        busy=state.pending == "create",
        trigger=trigger,
    )


def secret_dialog(title, description: str, secret, secret_id: str, done_id: str, max_width: str, **code_props) -> rx.Component:
    """An alert dialog showing `secret` (a ClientStateVar the server pushes to) once, with a copy button.

    It is open while `secret` is not empty; Done empties it, and so does opening the page again.
    """
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(*title),
            rx.alert_dialog.description(description, size="2"),
            rx.flex(
                rx.code(secret.value, id=secret_id, **code_props),
                rx.icon_button(rx.icon("copy", size=16), on_click=rx.set_clipboard(secret.value), variant="soft", aria_label="Copy"),
                spacing="2",
                align="center",
                margin_y="1rem",
                wrap="wrap",
            ),
            rx.flex(rx.alert_dialog.action(rx.button("Done", on_click=secret.set_value(""), id=done_id)), justify="end"),
            max_width=max_width,
        ),
        open=secret.value != "",
        on_mount=secret.set_value(""),
    )
