"""Status badges of containers and nodes, shared by the user and admin views."""

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


def node_down_badge(label: str = "node down") -> rx.Component:
    """A node the engine no longer hears from (on the overview's nodes, and beside an app on one)."""
    return rx.badge(rx.icon("server-off", size=14), label, color_scheme="red", variant="soft", size="2")


def node_badges(node) -> rx.Component:
    """A node's state: ready or down, and drained when it takes no new apps."""
    return rx.hstack(
        rx.cond(node["ready"], rx.badge("ready", color_scheme="green", variant="soft", size="2"), node_down_badge("down")),
        rx.cond(node["available"], rx.fragment(), rx.badge("drained", color_scheme="orange", variant="soft", size="2")),
        spacing="1",
    )
