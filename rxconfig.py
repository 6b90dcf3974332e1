import os

import click
import reflex as rx

from saas_panel.config import PROJECT_ROOT, get_settings


def _reflex_env() -> str:
    """"dev" (plain `reflex run`: hot reload) or "prod". Reflex records the mode in
    REFLEX_ENV_MODE only after its first read of this file; during that read, the running
    `reflex` command's own --env option tells."""
    command = click.get_current_context(silent=True)
    return (command and command.params.get("env")) or os.environ.get("REFLEX_ENV_MODE") or "prod"


settings = get_settings()
if _reflex_env() == "dev":
    # No edge: the browser opens the Vite dev server on PORT, whose pages talk to the backend beside it.
    frontend_port = settings.port
    backend_port = settings.backend_port if settings.backend_port != settings.port else settings.port + 1
    api_url = f"http://localhost:{backend_port}"
    # Reload on the app's code only: by default Reflex watches the whole project, data/ too,
    # where every write to the database would restart the backend.
    os.environ.setdefault("REFLEX_HOT_RELOAD_OVERRIDE_PATHS", str(PROJECT_ROOT / "saas_panel"))
else:
    # Behind the edge, the panel listens on backend_port and the browser talks to the edge.
    frontend_port = backend_port = settings.backend_port
    api_url = settings.public_url

# No db_url: the panel has its own engine (saas_panel/db.py) and migrates when the backend
# starts (saas_panel/bootstrap.py); given one, Reflex would first warn that a new database is behind.
config = rx.Config(
    app_name="saas_panel",
    frontend_port=frontend_port,
    backend_port=backend_port,
    backend_host=settings.backend_host,
    api_url=api_url,
    cors_allowed_origins=settings.allowed_origins,  # the API's CORS and the websocket's Origin check
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="indigo", radius="medium", has_background=True))],
    disable_plugins=[rx.plugins.sitemap.SitemapPlugin],
)
