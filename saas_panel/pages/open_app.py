"""`/open?app=<label>`: on the way into an app; "starting your app" while it wakes up."""

import reflex as rx

from saas_panel.components.layout import page_shell
from saas_panel.state.open_app import OpenAppState


def open_app_page() -> rx.Component:
    return page_shell(
        rx.center(
            rx.card(
                rx.match(
                    OpenAppState.phase,
                    (
                        "starting",
                        rx.vstack(
                            rx.heading("Starting your app…", size="5"),
                            rx.text("It opens by itself as soon as it answers.", color_scheme="gray"),
                            rx.progress(duration="20s", width="100%"),
                            spacing="3",
                            id="app-starting",
                        ),
                    ),
                    (
                        "failed",
                        rx.vstack(
                            rx.heading("Cannot open this app", size="5"),
                            rx.callout(OpenAppState.message, icon="circle-alert", color_scheme="red", id="app-open-error"),
                            rx.link("Go to your dashboard", href="/dashboard"),
                            spacing="3",
                        ),
                    ),
                    rx.hstack(rx.spinner(), rx.text("Opening ", rx.code(OpenAppState.app), "…"), align="center"),
                ),
                width="100%",
                max_width="28rem",
                size="3",
            ),
            padding_top=["4", "12"],
        ),
        max_width="40rem",
    )
