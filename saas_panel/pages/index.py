"""`/`: sends each visitor where they belong."""

import reflex as rx


def index_page() -> rx.Component:
    return rx.center(rx.spinner(size="3"), min_height="100vh")
