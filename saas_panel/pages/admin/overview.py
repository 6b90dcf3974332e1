"""Admin overview: current numbers for users, containers, resources, the engine, its nodes and recent activity."""

from __future__ import annotations

import reflex as rx

from saas_panel.components.charts import usage_chart
from saas_panel.components.status import node_badges, status_badge
from saas_panel.pages.admin.console import admin_screen
from saas_panel.state.admin import OverviewState
from saas_panel.state.live import PlatformLive


# Live numbers from the collector once it has swept; the stored samples until then.
_live = PlatformLive.updated != ""
_usage_hint = rx.cond(_live, f"live: {PlatformLive.running} running containers", OverviewState.usage_hint)


def stat(label: str, value, id: str, hint=None) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(label, size="2", color_scheme="gray"),
            rx.heading(value, size="6", id=id),
            rx.text(hint, size="1", color_scheme="gray") if hint is not None else rx.fragment(),
            spacing="1",
        ),
        flex="1 1 10rem",
    )


def _engine() -> rx.Component:
    return rx.cond(
        PlatformLive.engine_ok & OverviewState.engine_ok,
        rx.badge(rx.icon("circle-check", size=14), "reachable", color_scheme="green", size="2"),
        rx.badge(rx.icon("circle-alert", size=14), "unreachable", color_scheme="red", size="2"),
    )


def _by_state() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text("Containers by state", size="2", color_scheme="gray"),
            rx.cond(
                OverviewState.containers_total > 0,
                rx.flex(
                    rx.foreach(
                        rx.cond(_live, PlatformLive.by_state.entries(), OverviewState.containers),
                        lambda pair: rx.hstack(status_badge(pair[0]), rx.text(pair[1], weight="bold"), spacing="2", align="center"),
                    ),
                    spacing="5",
                    wrap="wrap",
                    id="containers-by-state",
                ),
                rx.text("No containers yet: each user gets one when they sign up.", size="2", color_scheme="gray"),
            ),
            spacing="2",
        ),
        width="100%",
    )


def _node_row(node: dict) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.text(node["hostname"], weight="medium")),
        rx.table.cell(node["role"]),
        rx.table.cell(rx.code(node["address"], size="1")),
        rx.table.cell(node_badges(node), id="node-state-" + node["hostname"].to(str)),
        rx.table.cell(node["apps"], " (", node["running"], " running)", white_space="nowrap"),
        rx.table.cell(node["updated_at"], white_space="nowrap"),
        background=rx.cond(node["ready"], "transparent", rx.color("red", 3)),
        id="node-" + node["hostname"].to(str),
        align="center",
    )


def _nodes() -> rx.Component:
    """The engine's hosts, when it spans several (live once the collector has swept)."""
    nodes = rx.cond(_live, PlatformLive.nodes, OverviewState.nodes)
    return rx.cond(
        (PlatformLive.nodes.length() > 0) | (OverviewState.nodes.length() > 0),
        rx.card(
            rx.vstack(
                rx.text("Nodes", size="2", color_scheme="gray"),
                rx.box(
                    rx.table.root(
                        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in ("Node", "Role", "Address", "State", "Apps", "Changed")])),
                        rx.table.body(rx.foreach(nodes, _node_row)),
                        size="1",
                        width="100%",
                    ),
                    overflow_x="auto",
                    width="100%",
                ),
                spacing="2",
                width="100%",
            ),
            width="100%",
            id="nodes",
        ),
    )


def _recent_row(row: dict) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row["time"], white_space="nowrap"),
        rx.table.cell(row["actor"]),
        rx.table.cell(rx.code(row["action"])),
        rx.table.cell(row["target"]),
        rx.table.cell(rx.badge(row["outcome"], color_scheme=rx.match(row["outcome"], ("success", "green"), ("denied", "orange"), "red"))),
    )


def _firing_row(row: dict) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.badge("firing", color_scheme="red")),
        rx.table.cell(row["rule"]),
        rx.table.cell(row["username"]),
        rx.table.cell(row["condition"], white_space="nowrap"),
        rx.table.cell(row["fired_at"], white_space="nowrap"),
    )


def _firing_alerts() -> rx.Component:
    """The alerts firing now; nothing when none are."""
    return rx.cond(
        OverviewState.firing.length() > 0,
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.text("Firing alerts", size="2", color_scheme="red", weight="medium"),
                    rx.spacer(),
                    rx.link("Alerts and rules", href="/admin/alerts", size="2"),
                    width="100%",
                ),
                rx.box(rx.table.root(rx.table.body(rx.foreach(OverviewState.firing, _firing_row)), size="1", width="100%"), overflow_x="auto", width="100%"),
                spacing="2",
                width="100%",
            ),
            width="100%",
            id="firing-alerts",
        ),
    )


def _recent() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text("Recent activity", size="2", color_scheme="gray"),
                rx.spacer(),
                rx.link("Full log", href="/admin/activity", size="2"),
                width="100%",
            ),
            rx.cond(
                OverviewState.recent.length() > 0,
                rx.box(
                    rx.table.root(rx.table.body(rx.foreach(OverviewState.recent, _recent_row)), size="1", width="100%"),
                    overflow_x="auto",
                    width="100%",
                ),
                rx.text("Nothing has happened yet.", size="2", color_scheme="gray"),
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def _top_row(row: dict) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(row["owner"]),
        rx.table.cell(row["cpu"], " %"),
        rx.table.cell(row["mem_mb"], " MB"),
    )


def _top_consumers() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text("Top consumers", size="2", color_scheme="gray"),
                rx.spacer(),
                rx.cond(_live, rx.text("updated ", PlatformLive.updated, size="1", color_scheme="gray")),
                width="100%",
            ),
            rx.cond(
                PlatformLive.top.length() > 0,
                rx.box(
                    rx.table.root(
                        rx.table.header(
                            rx.table.row(*[rx.table.column_header_cell(h) for h in ("Owner", "CPU", "Memory")])
                        ),
                        rx.table.body(rx.foreach(PlatformLive.top, _top_row)),
                        size="1",
                        width="100%",
                    ),
                    overflow_x="auto",
                    width="100%",
                ),
                rx.text("No running containers.", size="2", color_scheme="gray"),
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        id="top-consumers",
    )


def _orphans() -> rx.Component:
    return rx.cond(
        PlatformLive.orphans.length() > 0,
        rx.callout(
            rx.text(
                PlatformLive.orphan_count,
                " managed containers have no row in the database (removed by hand, or made outside the panel): ",
                rx.foreach(PlatformLive.orphans, lambda name: rx.code(name, margin_right="0.5em")),
                rx.cond(PlatformLive.orphan_count > PlatformLive.orphans.length(), "…", ""),
            ),
            icon="triangle-alert",
            color_scheme="orange",
            id="orphans",
        ),
    )


@admin_screen(
    "overview",
    "Overview",
    "gauge",
    route="/admin",
    title="Admin",
    heading="Admin console",
    heading_id="admin-heading",
    on_load=(OverviewState.load, PlatformLive.join),
)
def overview_page() -> list[rx.Component]:
    return [
        rx.flex(
            stat("Users", OverviewState.users_total, "stat-users"),
            stat("Active users", OverviewState.users_active, "stat-active-users"),
            stat("Containers", OverviewState.containers_total, "stat-containers"),
            stat("CPU in use", rx.cond(_live, f"{PlatformLive.cpu_percent} %", OverviewState.cpu_in_use), "stat-cpu", _usage_hint),
            stat("Memory in use", rx.cond(_live, f"{PlatformLive.mem_mb} MB", OverviewState.mem_in_use), "stat-memory", _usage_hint),
            rx.card(rx.vstack(rx.text("Engine", size="2", color_scheme="gray"), rx.box(_engine(), id="stat-engine"), spacing="2"), flex="1 1 10rem"),
            spacing="3",
            wrap="wrap",
            width="100%",
        ),
        _firing_alerts(),
        _by_state(),
        _nodes(),
        _orphans(),
        rx.grid(
            usage_chart(PlatformLive.series, "cpu", "Platform CPU, last hour (% of one core)", "%", "indigo", "platform-cpu-chart", "platform"),
            usage_chart(PlatformLive.series, "mem_mb", "Platform memory, last hour (MB)", " MB", "teal", "platform-memory-chart", "platform"),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="4",
            width="100%",
        ),
        _top_consumers(),
        _recent(),
        rx.button(rx.icon("refresh-cw", size=16), "Refresh", on_click=OverviewState.load, variant="soft", id="overview-refresh"),
    ]
