"""Every setting in one place, read from the environment (documented in README.md)."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw not in (None, "") else default


def _env_origins(port: int) -> tuple[str, ...]:
    raw = os.environ.get("SAAS_PANEL_ALLOWED_ORIGINS", "")
    origins = tuple(o.strip().rstrip("/") for o in raw.split(",") if o.strip())
    public = (os.environ.get("SAAS_PANEL_PUBLIC_URL") or "").rstrip("/")
    return origins or tuple(dict.fromkeys(o for o in (public, f"http://localhost:{port}", f"http://127.0.0.1:{port}") if o))


def _env_networks(name: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    raw = os.environ.get(name, "")
    try:
        return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in raw.split(",") if item.strip())
    except ValueError as exc:
        raise ValueError(f"{name} must be a comma-separated list of CIDRs like 127.0.0.1/32,10.0.0.0/8 ({exc})") from None


def _env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = (os.environ.get(name) or default).strip().lower()
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _default_backend_port() -> int:
    """Behind the edge the panel listens one port above the public one; without it, on it."""
    port = _env_int("PORT", 8000)
    return port + 1 if os.environ.get("SAAS_PANEL_EDGE", "caddy") != "none" else port


def default_db_url() -> str:
    return f"sqlite:///{PROJECT_ROOT / 'data' / 'saas_control_panel.db'}"


@dataclass(frozen=True)
class Settings:
    db_url: str = field(default_factory=lambda: os.environ.get("REFLEX_DB_URL") or default_db_url())
    port: int = field(default_factory=lambda: _env_int("PORT", 8000))
    admin_password: str | None = field(default_factory=lambda: os.environ.get("SAAS_PANEL_ADMIN_PASSWORD") or None)
    bcrypt_rounds: int = field(default_factory=lambda: _env_int("SAAS_PANEL_BCRYPT_ROUNDS", 12))
    session_idle_seconds: int = field(default_factory=lambda: _env_int("SAAS_PANEL_SESSION_IDLE_SECONDS", 8 * 3600))
    session_max_seconds: int = field(default_factory=lambda: _env_int("SAAS_PANEL_SESSION_MAX_SECONDS", 7 * 24 * 3600))
    # Container runtime
    runtime: str = field(default_factory=lambda: os.environ.get("SAAS_PANEL_RUNTIME", "docker"))  # a name in saas_panel.runtime's registry
    user_image: str = field(default_factory=lambda: os.environ.get("SAAS_PANEL_USER_IMAGE", "saas-panel/user-dashboard:latest"))
    bind_host: str = field(default_factory=lambda: os.environ.get("SAAS_PANEL_BIND_HOST", ""))  # "": no host port
    user_network: str = field(default_factory=lambda: os.environ.get("SAAS_PANEL_USER_NETWORK", "saas-panel-users"))
    default_mem_limit_mb: int = field(default_factory=lambda: _env_int("SAAS_PANEL_DEFAULT_MEM_MB", 128))
    default_cpu_limit: float = field(default_factory=lambda: _env_float("SAAS_PANEL_DEFAULT_CPUS", 0.5))
    pids_limit: int = field(default_factory=lambda: _env_int("SAAS_PANEL_PIDS_LIMIT", 64))
    container_prefix: str = field(default_factory=lambda: os.environ.get("SAAS_PANEL_CONTAINER_PREFIX", "saas-user-"))
    max_concurrent_provisioning: int = field(default_factory=lambda: _env_int("SAAS_PANEL_MAX_CONCURRENT_PROVISIONING", 8))
    user_app_port: int = 8080  # the port user_dashboard listens on inside its container
    # User container isolation
    log_max_size: str = field(default_factory=lambda: os.environ.get("SAAS_PANEL_LOG_MAX_SIZE", "10m"))
    log_max_files: int = field(default_factory=lambda: _env_int("SAAS_PANEL_LOG_MAX_FILES", 3))
    nofile_limit: int = field(default_factory=lambda: _env_int("SAAS_PANEL_NOFILE_LIMIT", 1024))
    redis_url: str | None = field(default_factory=lambda: os.environ.get("REFLEX_REDIS_URL") or None)
    metrics_interval: float = field(default_factory=lambda: _env_float("SAAS_PANEL_METRICS_INTERVAL", 5.0))
    metrics_raw_minutes: int = field(default_factory=lambda: _env_int("SAAS_PANEL_METRICS_RAW_MINUTES", 120))
    metrics_rollup_days: int = field(default_factory=lambda: _env_int("SAAS_PANEL_METRICS_ROLLUP_DAYS", 7))
    # The edge (Caddy) in front of the panel and of every user's app
    edge: str = field(default_factory=lambda: _env_choice("SAAS_PANEL_EDGE", "caddy", ("caddy", "none")))
    public_url: str = field(default_factory=lambda: (os.environ.get("SAAS_PANEL_PUBLIC_URL") or f"http://localhost:{_env_int('PORT', 8000)}").rstrip("/"))
    apps_domain: str = field(default_factory=lambda: os.environ.get("SAAS_PANEL_APPS_DOMAIN") or "apps.localhost")
    # Behind the edge only the edge talks to the panel: loopback unless told otherwise (compose).
    backend_host: str = field(default_factory=lambda: os.environ.get("SAAS_PANEL_BACKEND_HOST") or ("0.0.0.0" if os.environ.get("SAAS_PANEL_EDGE") == "none" else "127.0.0.1"))
    backend_port: int = field(default_factory=lambda: _env_int("SAAS_PANEL_BACKEND_PORT", _default_backend_port()))
    app_cookie_seconds: int = field(default_factory=lambda: _env_int("SAAS_PANEL_APP_COOKIE_SECONDS", 3600))
    # Web security
    allowed_origins: tuple[str, ...] = field(default_factory=lambda: _env_origins(_env_int("PORT", 8000)))
    trusted_proxies: tuple = field(default_factory=lambda: _env_networks("SAAS_PANEL_TRUSTED_PROXIES"))
    trust_proxy_headers: bool = field(default_factory=lambda: os.environ.get("SAAS_PANEL_TRUST_PROXY", "") in ("1", "true", "yes"))
    secret_key: str | None = field(default_factory=lambda: os.environ.get("SAAS_PANEL_SECRET_KEY") or None, repr=False)
    secret_file: Path = field(default_factory=lambda: Path(os.environ.get("SAAS_PANEL_SECRET_FILE") or PROJECT_ROOT / "data" / "secret_key"))
    hsts_seconds: int = field(default_factory=lambda: _env_int("SAAS_PANEL_HSTS_SECONDS", 31_536_000))
    # Throttles: at most LIMIT attempts per WINDOW seconds (sliding), counted in the database
    login_account_limit: int = field(default_factory=lambda: _env_int("SAAS_PANEL_LOGIN_ACCOUNT_LIMIT", 10))
    login_ip_limit: int = field(default_factory=lambda: _env_int("SAAS_PANEL_LOGIN_IP_LIMIT", 50))
    login_window_seconds: int = field(default_factory=lambda: _env_int("SAAS_PANEL_LOGIN_WINDOW_SECONDS", 300))
    signup_ip_limit: int = field(default_factory=lambda: _env_int("SAAS_PANEL_SIGNUP_IP_LIMIT", 20))
    signup_window_seconds: int = field(default_factory=lambda: _env_int("SAAS_PANEL_SIGNUP_WINDOW_SECONDS", 600))
    signup_global_limit: int = field(default_factory=lambda: _env_int("SAAS_PANEL_SIGNUP_GLOBAL_LIMIT", 100))
    signup_global_window_seconds: int = field(default_factory=lambda: _env_int("SAAS_PANEL_SIGNUP_GLOBAL_WINDOW_SECONDS", 3600))
    signup_mode: str = field(default_factory=lambda: _env_choice("SAAS_PANEL_SIGNUP", "open", ("open", "closed")))
    # Housekeeping
    activity_retention_days: int = field(default_factory=lambda: _env_int("SAAS_PANEL_ACTIVITY_RETENTION_DAYS", 365))
    container_action_limit: int = field(default_factory=lambda: _env_int("SAAS_PANEL_CONTAINER_ACTION_LIMIT", 20))
    container_action_window_seconds: int = field(default_factory=lambda: _env_int("SAAS_PANEL_CONTAINER_ACTION_WINDOW_SECONDS", 60))
    api_token_limit: int = field(default_factory=lambda: _env_int("SAAS_PANEL_API_RATE_LIMIT", 600))
    api_window_seconds: int = field(default_factory=lambda: _env_int("SAAS_PANEL_API_RATE_WINDOW_SECONDS", 60))
    idle_stop_minutes: float = field(default_factory=lambda: _env_float("SAAS_PANEL_IDLE_STOP_MINUTES", 60))  # 0: never
    idle_check_seconds: float = field(default_factory=lambda: _env_float("SAAS_PANEL_IDLE_CHECK_SECONDS", 60))  # at most this apart


_cached: tuple[dict, Settings] | None = None


def get_settings() -> Settings:
    """The settings of the environment as it is now: built again only when the environment
    changed since the last call (tests and CLI overrides set variables at run time).

    Building them reads ~60 variables (~0.1 ms); the edge asks on every proxied request.
    `os.environ._data` is the raw mapping behind os.environ, compared without decoding."""
    global _cached
    environment = os.environ._data  # noqa: SLF001
    cached = _cached
    if cached is not None and cached[0] == environment:
        return cached[1]
    settings = Settings()
    _cached = (dict(environment), settings)
    return settings
