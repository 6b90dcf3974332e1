"""The edge's configuration (a Caddyfile), written from the settings.

One public address serves the panel and, on `<label>.<SAAS_PANEL_APPS_DOMAIN>`,
every user's app. For an app host, Caddy asks the panel (`/_edge/verify`,
forward_auth) about each request and proxies it to the container address the
panel answers with; the hand-off callback goes to the panel itself. The
`saas_app` cookie is removed before a request reaches an app. Under an https
public URL, certificates come from Caddy's automatic HTTPS, on demand for app
hosts, and only for hosts the panel vouches for (`/_edge/ask`).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from saas_panel.config import Settings, get_settings

UPSTREAM_HEADER = "X-Saas-Upstream"
APP_COOKIE_PATTERN = r"(^|;\s*)(__Host-)?saas_app=[^;]*"
EMPTY = "{http.vars.saas_unset}"  # the Caddyfile drops a literal "" replacement; an unset var is empty


def _panel(settings: Settings) -> str:
    return f"127.0.0.1:{settings.backend_port}" if settings.backend_host in ("0.0.0.0", "127.0.0.1") else f"{settings.backend_host}:{settings.backend_port}"


def _app_routes(settings: Settings) -> str:
    panel = _panel(settings)
    return f"""	@apps host *.{settings.apps_domain}
	route @apps {{
		request_header -{UPSTREAM_HEADER}
		reverse_proxy /_edge/callback {panel}
		forward_auth {panel} {{
			uri /_edge/verify
			copy_headers {UPSTREAM_HEADER}
		}}
		reverse_proxy {{http.request.header.{UPSTREAM_HEADER}}} {{
			header_up -{UPSTREAM_HEADER}
			header_up Cookie "{APP_COOKIE_PATTERN}" "{EMPTY}"
			flush_interval -1
			# A container that has just started may not listen yet: keep dialing for a while.
			lb_try_duration 15s
			lb_try_interval 250ms
		}}
	}}
"""


def _panel_routes(settings: Settings) -> str:
    return f"""	route {{
		respond /_edge/* 404
		reverse_proxy {_panel(settings)} {{
			flush_interval -1
		}}
	}}
"""


def caddyfile(settings: Settings | None = None) -> str:
    settings = settings or get_settings()
    public = urlsplit(settings.public_url)
    if public.scheme == "https":
        return f"""{{
	admin off
	on_demand_tls {{
		ask http://{_panel(settings)}/_edge/ask
	}}
}}

{public.hostname} {{
{_panel_routes(settings)}}}

https:// {{
	tls {{
		on_demand
	}}
{_app_routes(settings)}	respond 404
}}
"""
    return f"""{{
	admin off
	auto_https off
}}

:{public.port or 80} {{
{_app_routes(settings)}{_panel_routes(settings)}}}
"""
