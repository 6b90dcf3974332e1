"""Builds the Reflex app: pages and their guards. Wiring only."""

import reflex as rx

from saas_panel.api.app import create_api, outermost
from saas_panel.bootstrap import on_backend_start
from saas_panel.pages.admin import ADMIN_SCREENS
from saas_panel.pages.auth import login_page, signup_page
from saas_panel.pages.dashboard import dashboard_page
from saas_panel.pages.index import index_page
from saas_panel.pages.open_app import open_app_page
from saas_panel.state.auth import AuthState
from saas_panel.state.background import housekeeping, idle_culling, recovering
from saas_panel.state.connections import connected_clients
from saas_panel.state.dashboard import DashboardState
from saas_panel.state.open_app import OpenAppState
from saas_panel.state.reflex_redis import keeping_reflex_subscribed
from saas_panel.state.live import run_collector


class PanelApp(rx.App):
    """The Reflex app inside the layers that must see every request first (see `outermost`)."""

    def __call__(self):
        return outermost(super().__call__())


app = PanelApp(
    toaster=rx.toast.provider(position="top-right", close_button=True, rich_colors=True),
    api_transformer=create_api(websocket_clients=lambda: connected_clients(app)),
)
app.register_lifespan_task(on_backend_start)  # first: the database is ready before anything else runs
app.register_lifespan_task(recovering)  # finishes what a process that died left half done
app.register_lifespan_task(run_collector)
app.register_lifespan_task(housekeeping)
app.register_lifespan_task(idle_culling)
app.register_lifespan_task(keeping_reflex_subscribed)  # live updates come back after a Redis outage

app.add_page(index_page, route="/", title="saas-panel", on_load=AuthState.route_home)
app.add_page(login_page, route="/login", title="Log in · saas-panel", on_load=AuthState.redirect_if_signed_in)
app.add_page(signup_page, route="/signup", title="Sign up · saas-panel", on_load=AuthState.redirect_if_signed_in)
app.add_page(open_app_page, route="/open", title="Opening your app · saas-panel", on_load=OpenAppState.open)
app.add_page(
    dashboard_page,
    route="/dashboard",
    title="Dashboard · saas-panel",
    on_load=DashboardState.load,
)
for screen in ADMIN_SCREENS:
    app.add_page(screen.page, route=screen.route, title=screen.title, on_load=list(screen.on_load))
