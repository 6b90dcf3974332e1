"""Pieces shared by the admin dialogs: labelled fields, the Cancel/submit row, a "New …" form, and a show-once secret."""

from __future__ import annotations

import reflex as rx


def form_field(label: str, control: rx.Component) -> rx.Component:
    return rx.vstack(rx.text(label, size="2", weight="medium"), control, spacing="1", width="100%")


def select_field(label: str, name: str, options: list[tuple[str, str]], default: str, id: str | None = None) -> rx.Component:
    """A form menu of (value, label) options."""
    return form_field(
        label,
        rx.select.root(
            rx.select.trigger(width="100%", id=id),
            rx.select.content(*[rx.select.item(text, value=key) for key, text in options]),
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


def create_dialog(state, trigger: rx.Component, title: str, fields: list[rx.Component], on_submit, error_id: str, submit_id: str) -> rx.Component:
    """The dialog behind a "New …" button: open while `state.create_open`, its error in `state.create_error`."""
    return rx.dialog.root(
        rx.dialog.trigger(trigger),
        rx.dialog.content(
            rx.dialog.title(title),
            rx.form(
                rx.vstack(
                    rx.cond(state.create_error != "", rx.callout(state.create_error, icon="triangle-alert", color_scheme="red", id=error_id)),
                    *fields,
                    dialog_buttons("Create", submit_id, loading=state.pending == "create"),
                    spacing="3",
                ),
                on_submit=on_submit,
                reset_on_submit=False,
            ),
            max_width="26rem",
        ),
        open=state.create_open,
        on_open_change=state.open_create,
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
