"""The user's personal dashboard: their container's status, info and controls."""

from __future__ import annotations

import reflex as rx

from saas_panel.components.charts import usage_chart
from saas_panel.components.layout import page_shell, signed_in_only
from saas_panel.components.status import status_badge
from saas_panel.presentation import PLACEHOLDER
from saas_panel.services.coordination import WATCH_RENEW_S
from saas_panel.state.dashboard import DashboardState
from saas_panel.state.live import ContainerLive


def _info(label: str, value, **props) -> rx.Component:
    return rx.data_list.item(rx.data_list.label(label), rx.data_list.value(value, **props))


def _action_button(action: str, label: str, icon: str, pointless, **props) -> rx.Component:
    """A container action; disabled while another runs, or when `pointless` (e.g. start when running)."""
    return rx.button(
        rx.icon(icon, size=16),
        label,
        on_click=DashboardState.container_action(action),
        loading=DashboardState.pending_action == action,
        disabled=(DashboardState.pending_action != "") | DashboardState.is_provisioning | pointless,
        id=f"container-{action}",
        **props,
    )


def _provisioning_notice() -> rx.Component:
    return rx.callout(
        rx.hstack(rx.spinner(), rx.text("Creating your container… this takes a few seconds."), align="center"),
        color_scheme="blue",
        id="provisioning-notice",
    )


def _engine_notice() -> rx.Component:
    return rx.callout(
        "Container engine unavailable: the status below may be out of date.",
        icon="triangle-alert",
        color_scheme="orange",
    )


def _node_down_notice() -> rx.Component:
    return rx.callout(
        "The server your app runs on is not answering, so your app cannot be reached or started for now. "
        "Your files are kept on that server and come back with it; an administrator has been told.",
        icon="server-off",
        color_scheme="red",
        id="node-down-notice",
    )


def _container_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Your service", size="5"),
                rx.box(status_badge(ContainerLive.status), id="container-status"),
                rx.spacer(),
                rx.icon_button(rx.icon("refresh-cw", size=16), on_click=DashboardState.refresh, variant="ghost", aria_label="Refresh"),
                # Renews the watch while the page is open: the live numbers keep coming.
                rx.moment(interval=WATCH_RENEW_S * 1000, on_change=ContainerLive.join, display="none"),
                align="center",
                width="100%",
            ),
            rx.cond(DashboardState.is_provisioning, _provisioning_notice()),
            rx.cond(
                DashboardState.is_admin & (DashboardState.status == "none"),
                rx.callout("Administrators have no app of their own; users' apps are in the admin console.", icon="info", id="admin-no-app"),
            ),
            rx.cond(~DashboardState.engine_available | ~ContainerLive.engine_ok, _engine_notice()),
            rx.cond(ContainerLive.node_down, _node_down_notice()),
            rx.cond(DashboardState.error != "", rx.callout(DashboardState.error, icon="circle-alert", color_scheme="red")),
            rx.data_list.root(
                _info("Container", rx.code(DashboardState.container_name, id="container-name")),
                _info("Image", DashboardState.image),
                _info("Created", DashboardState.created),
                _info(
                    "Started",
                    rx.cond(
                        DashboardState.started_at != "",
                        rx.moment(DashboardState.started_at, from_now=True, interval=10_000),
                        PLACEHOLDER,
                    ),
                    id="container-started",
                ),
                _info("Port", DashboardState.host_port, id="container-port"),
                _info("Limits", rx.text(DashboardState.mem_limit, " · ", DashboardState.cpu_limit)),
                orientation=rx.breakpoints(initial="vertical", sm="horizontal"),
            ),
            rx.flex(
                rx.cond(
                    DashboardState.app_url != "",
                    rx.link(
                        rx.button(rx.icon("external-link", size=16), "Open my app"),
                        href=DashboardState.app_url,
                        is_external=True,
                        id="open-app",
                    ),
                ),
                _action_button("start", "Start", "play", ContainerLive.status == "running", variant="soft", color_scheme="green"),
                _action_button("stop", "Stop", "square", ContainerLive.status != "running", variant="soft", color_scheme="gray"),
                _action_button("restart", "Restart", "rotate-cw", ContainerLive.status != "running", variant="soft"),
                rx.cond(
                    DashboardState.container_name != "",
                    rx.button(rx.icon("download", size=16), "Download my files", on_click=DashboardState.download_data, variant="soft", color_scheme="gray", id="download-data"),
                ),
                spacing="3",
                wrap="wrap",
            ),
            spacing="4",
            width="100%",
        ),
        width="100%",
    )


def _storage_bar() -> rx.Component:
    """The user's files against their plan's storage, as last measured by the collector."""
    return rx.vstack(
        rx.flex(
            rx.text("Storage used", size="2", weight="medium"),
            rx.spacer(),
            rx.text(
                rx.cond(DashboardState.storage_measured, DashboardState.plan["used"] + " · " + DashboardState.storage_percent.to_string() + " %", "not measured yet"),
                size="2",
                color_scheme="gray",
            ),
            width="100%",
            wrap="wrap",
        ),
        rx.progress(value=DashboardState.storage_percent, max=100, color_scheme=rx.cond(DashboardState.storage_nearly_full, "orange", "green")),
        spacing="2",
        width="100%",
        id="storage-usage",
    )


def _plan_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Your plan", size="5"),
                rx.badge(DashboardState.plan["name"], variant="soft", size="2", id="plan-name"),
                align="center",
                wrap="wrap",
            ),
            rx.data_list.root(
                _info("CPU", DashboardState.plan["cpu"]),
                _info("Memory", DashboardState.plan["memory"]),
                _info("Storage", DashboardState.plan["storage"], id="plan-storage"),
                _info("Idle stop", DashboardState.plan["idle_stop"]),
                orientation=rx.breakpoints(initial="vertical", sm="horizontal"),
            ),
            _storage_bar(),
            rx.cond(
                DashboardState.storage_nearly_full,
                rx.callout(
                    "Your storage is " + DashboardState.storage_percent.to_string() + " % full: delete files or ask an admin for a larger plan.",
                    icon="triangle-alert",
                    color_scheme="orange",
                    id="storage-warning",
                ),
            ),
            spacing="4",
            width="100%",
        ),
        width="100%",
        id="plan-card",
    )


def _range_picker() -> rx.Component:
    return rx.segmented_control.root(
        rx.segmented_control.item("Hour", value="hour"),
        rx.segmented_control.item("Day", value="day"),
        rx.segmented_control.item("Week", value="week"),
        value=DashboardState.chart_range,
        on_change=DashboardState.set_chart_range,
        id="chart-range",
    )


def _charts() -> rx.Component:
    data = rx.cond(DashboardState.chart_range == "hour", ContainerLive.series, DashboardState.history)
    return rx.vstack(
        rx.flex(
            rx.heading("Usage", size="5"),
            rx.text("CPU ", rx.code(ContainerLive.cpu_percent, "%"), " · memory ", rx.code(ContainerLive.mem_mb, " MB"), size="2"),
            rx.spacer(),
            _range_picker(),
            align="center",
            gap="1rem",
            wrap="wrap",
            width="100%",
        ),
        rx.grid(
            usage_chart(data, "cpu", "CPU (% of one core)", "%", "indigo", "cpu-chart"),
            usage_chart(data, "mem_mb", "Memory (MB)", " MB", "teal", "memory-chart"),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="4",
            width="100%",
        ),
        spacing="3",
        width="100%",
    )


def _timeline_item(item: dict) -> rx.Component:
    return rx.hstack(
        rx.badge(item["outcome"], color_scheme=rx.cond(item["outcome"] == "success", "green", "red"), variant="soft"),
        rx.text(
            rx.text.strong(item["actor"]),
            " ",
            item["action"].to(str).replace("_", " "),
            rx.cond(item["note"] != "", rx.text.span(": ", item["note"], color_scheme="gray")),
            size="2",
        ),
        rx.spacer(),
        rx.text(item["time"], size="1", color_scheme="gray"),
        width="100%",
        align="center",
        wrap="wrap",
    )


def _timeline() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Activity", size="5"),
            rx.cond(
                ContainerLive.timeline.length() > 0,
                rx.vstack(rx.foreach(ContainerLive.timeline, _timeline_item), spacing="2", width="100%"),
                rx.text("Nothing yet.", size="2", color_scheme="gray"),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="activity-timeline",
    )


def _password_card() -> rx.Component:
    return rx.card(
        rx.form(
            rx.flex(
                rx.vstack(
                    rx.heading("Password", size="3"),
                    rx.text("Changing it ends your sessions everywhere else.", size="2", color_scheme="gray"),
                    spacing="1",
                    flex="1 1 14rem",
                ),
                rx.input(name="current_password", type="password", placeholder="Current password", required=True, auto_complete="current-password", id="current-password"),
                rx.input(name="new_password", type="password", placeholder="New password (8+ characters)", required=True, auto_complete="new-password", id="new-password"),
                rx.button("Change password", type="submit", loading=DashboardState.pending_action == "password", id="change-password"),
                align="center",
                gap="0.75rem",
                wrap="wrap",
            ),
            on_submit=DashboardState.change_password,
            reset_on_submit=True,
        ),
        width="100%",
    )


def _delete_dialog() -> rx.Component:
    """Deleting the account asks for the current password again; the dialog stays open on a mistake."""
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(rx.button("Delete my account", color_scheme="red", variant="soft", id="delete-account")),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete your account?"),
            rx.alert_dialog.description("Your container and everything in it will be removed, and so will your files in /data.", size="2"),
            rx.form(
                rx.vstack(
                    rx.input(name="password", type="password", placeholder="Your current password", required=True, auto_complete="current-password", id="delete-password", width="100%"),
                    rx.flex(
                        rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                        rx.button("Delete", color_scheme="red", type="submit", loading=DashboardState.pending_action == "delete", id="confirm-delete"),
                        spacing="3",
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                    margin_top="1rem",
                ),
                on_submit=DashboardState.delete_account,
                reset_on_submit=True,
            ),
            max_width="28rem",
        ),
    )


def _danger_zone() -> rx.Component:
    return rx.card(
        rx.flex(
            rx.vstack(
                rx.heading("Delete account", size="3"),
                rx.text("Removes your container and your account. This cannot be undone.", size="2", color_scheme="gray"),
                spacing="1",
            ),
            rx.spacer(),
            _delete_dialog(),
            align="center",
            gap="1rem",
            wrap="wrap",
        ),
        width="100%",
    )


def dashboard_page() -> rx.Component:
    return page_shell(
        signed_in_only(
            rx.vstack(
                rx.heading("Your dashboard", size="7", id="dashboard-heading"),
                rx.cond(
                    DashboardState.status == "",
                    rx.center(rx.spinner(size="3"), width="100%", padding="2rem"),
                    _container_card(),
                ),
                rx.cond(DashboardState.plan.length() > 0, _plan_card()),
                _charts(),
                _timeline(),
                _password_card(),
                _danger_zone(),
                spacing="5",
                width="100%",
            )
        )
    )
