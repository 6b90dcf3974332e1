"""Container status badge, shared by the user and admin views."""

import reflex as rx

STATUS_COLORS = {
    "running": "green",
    "provisioning": "blue",
    "stopped": "gray",
    "error": "red",
    "missing": "orange",
}


def status_badge(status) -> rx.Component:
    return rx.match(
        status,
        *[(name, rx.badge(name, color_scheme=color, variant="soft", size="2")) for name, color in STATUS_COLORS.items()],
        rx.badge(status, variant="soft", size="2"),
    )
