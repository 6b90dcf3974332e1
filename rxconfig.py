import reflex as rx

from saas_panel.config import get_settings

settings = get_settings()

config = rx.Config(
    app_name="saas_panel",
    db_url=settings.db_url,
    # Behind the edge, the panel listens on backend_port and the browser talks to the edge.
    frontend_port=settings.backend_port,
    backend_port=settings.backend_port,
    backend_host=settings.backend_host,
    api_url=settings.public_url,
    cors_allowed_origins=settings.allowed_origins,  # the API's CORS and the websocket's Origin check
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="indigo", radius="medium", has_background=True))],
    disable_plugins=[rx.plugins.sitemap.SitemapPlugin],
)
