"""Login and signup screens."""

from __future__ import annotations

import reflex as rx

from saas_panel.components.layout import page_shell
from saas_panel.components.prefetch import prefetch_page
from saas_panel.state.auth import AuthState


def _field(label: str, name: str, type_: str = "text", **props) -> rx.Component:
    return rx.vstack(
        rx.text(label, as_="label", html_for=name, size="2", weight="medium"),
        rx.input(name=name, id=name, type=type_, required=True, width="100%", size="3", **props),
        spacing="1",
        width="100%",
    )


def _error_callout() -> rx.Component:
    return rx.cond(
        AuthState.form_error != "",
        rx.callout(AuthState.form_error, icon="triangle-alert", color_scheme="red", role="alert", id="form-error"),
    )


def _card(title: str, form: rx.Component, footer: rx.Component) -> rx.Component:
    return page_shell(
        rx.center(
            rx.card(
                rx.vstack(rx.heading(title, size="6"), _error_callout(), form, footer, spacing="4", width="100%"),
                prefetch_page(page="/dashboard"),  # where most people go from here
                width="100%",
                max_width="26rem",
                size="3",
            ),
            padding_top=["4", "12"],
        )
    )


def login_page() -> rx.Component:
    form = rx.form(
        rx.vstack(
            _field("Username", "username", auto_complete="username", auto_focus=True),
            _field("Password", "password", "password", auto_complete="current-password"),
            rx.button("Log in", type="submit", loading=AuthState.busy, width="100%", size="3", id="login-submit"),
            spacing="3",
        ),
        on_submit=AuthState.login,
    )
    footer = rx.cond(AuthState.signup_open, rx.text("No account yet? ", rx.link("Sign up", href="/signup"), size="2"), rx.fragment())
    return _card("Log in", form, footer)


def signup_page() -> rx.Component:
    form = rx.form(
        rx.vstack(
            _field("Username", "username", auto_complete="username", auto_focus=True, max_length=32),
            rx.text("3-32 characters: letters a-z, digits and '-' (not first or last).", size="1", color_scheme="gray"),
            _field("Email", "email", "email", auto_complete="email"),
            _field("Password", "password", "password", auto_complete="new-password"),
            rx.text("At least 8 characters.", size="1", color_scheme="gray"),
            rx.button("Create account", type="submit", loading=AuthState.busy, width="100%", size="3", id="signup-submit"),
            spacing="3",
        ),
        on_submit=AuthState.signup,
    )
    closed = rx.callout(
        "Sign-up is closed on this panel: ask an administrator for an account.", icon="lock", color_scheme="amber", id="signup-closed"
    )
    footer = rx.text("Already have an account? ", rx.link("Log in", href="/login"), size="2")
    return _card("Create your account", rx.cond(AuthState.signup_open, form, closed), footer)
