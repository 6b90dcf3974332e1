"""Every setting in one place: one validated object, read from the environment and an optional
`.env` file in the project root (the environment wins). The root, not the working directory,
so that every way of starting the panel finds the same file. README.md's table is generated
from the fields (`python -m saas_panel settings-table`)."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    ValidationError,
)
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENV_FILE = PROJECT_ROOT / ".env"
ENV_PREFIX = "SAAS_PANEL_"
DEFAULT_PORT = 8000


class InvalidSettings(ValueError):
    """Settings with bad values: the message names each variable, its value and what it expects."""


def _comma_separated(raw: Any) -> Any:
    return tuple(item.strip() for item in raw.split(",") if item.strip()) if isinstance(raw, str) else raw


def _origins(raw: Any) -> Any:
    origins = tuple(origin.rstrip("/") for origin in _comma_separated(raw))
    if not origins:
        raise ValueError("a comma-separated list of origins like https://panel.example.com")
    return origins


def _networks(raw: Any) -> Any:
    try:
        return tuple(ipaddress.ip_network(item, strict=False) for item in _comma_separated(raw))
    except ValueError as exc:
        raise ValueError(f"a comma-separated list of CIDRs like 127.0.0.1/32,10.0.0.0/8 ({exc})") from None


def _one_of(*choices: str) -> AfterValidator:
    def check(value: str) -> str:
        value = value.strip().lower()
        if value not in choices:
            raise ValueError(f"one of {', '.join(choices)}")
        return value

    return AfterValidator(check)


Port = Annotated[int, Field(ge=1, le=65535)]
Origins = Annotated[tuple[str, ...], NoDecode, BeforeValidator(_origins)]
Networks = Annotated[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...], NoDecode, BeforeValidator(_networks)]
Url = Annotated[str, Field(pattern=r"^https?://[^/]+"), AfterValidator(lambda url: url.rstrip("/"))]


def default_db_url() -> str:
    return f"sqlite:///{PROJECT_ROOT / 'data' / 'saas_control_panel.db'}"


def derived(factory: Callable[..., Any], shown: str, **field_args: Any) -> Any:
    """A default computed from the fields declared above it; `shown` is how the README states it."""
    return Field(default_factory=factory, json_schema_extra={"shown_default": shown}, **field_args)


def _port_of(data: dict[str, Any]) -> int:
    return data.get("port", DEFAULT_PORT)  # absent only when PORT itself is invalid


def _behind_edge(data: dict[str, Any]) -> bool:
    return data.get("edge") != "none"


def _default_origins(data: dict[str, Any]) -> tuple[str, ...]:
    port = _port_of(data)
    return tuple(dict.fromkeys((data.get("public_url", ""), f"http://localhost:{port}", f"http://127.0.0.1:{port}")))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=ENV_FILE,
        env_ignore_empty=True,  # VAR= (as compose passes ${VAR:-}) means unset
        extra="ignore",  # the .env may also hold variables for compose and the build scripts
        allow_inf_nan=False,
        frozen=True,
    )

    port: Port = Field(DEFAULT_PORT, validation_alias="PORT", description="The public port: the edge in front of the panel and the apps")
    db_url: str = derived(default_db_url, "`sqlite:///data/saas_control_panel.db`", validation_alias="REFLEX_DB_URL",
                          description="Database URL (SQLite in WAL mode by default; `postgresql+psycopg://...` works)")
    admin_password: str | None = Field(None, repr=False, description="Password of the first admin; generated and printed once when unset")
    bcrypt_rounds: int = Field(12, ge=4, le=31, description="bcrypt cost")
    session_idle_seconds: PositiveInt = Field(8 * 3600, description="A session ends after this long without use")
    session_max_seconds: PositiveInt = Field(7 * 24 * 3600, description="A session ends this long after login, used or not")
    # Container runtime
    runtime: str = Field("docker", description="The container engine that runs the user containers: `docker` (one host) or `swarm` (a Docker Swarm; the panel talks to a manager through `DOCKER_HOST`)")
    swarm_node_api: str = Field("tcp://{address}:2376", pattern=r"\{address\}",
                                description="`swarm`: each node's own engine API, `{address}` being the node's Swarm address (TLS from `DOCKER_CERT_PATH` when `DOCKER_TLS_VERIFY` is set)")
    user_image: str = Field("saas-panel/user-dashboard:latest", description="Image of the per-user containers")
    bind_host: str = Field("", description="Host address user containers publish their app port on; unset: none (the edge dials them on the engine network)")
    user_network: str = Field("saas-panel-users", description="Docker network of user containers (inter-container traffic off)")
    default_mem_limit_mb: PositiveInt = Field(128, validation_alias="SAAS_PANEL_DEFAULT_MEM_MB", description="Memory limit of a user container unless set per user")
    default_cpu_limit: PositiveFloat = Field(0.5, validation_alias="SAAS_PANEL_DEFAULT_CPUS", description="CPU limit of a user container unless set per user")
    pids_limit: PositiveInt = Field(64, description="Process limit of a user container")
    default_storage_mb: PositiveInt = Field(1024, description="Storage (`/data`) of the default plan made at first start")
    storage_quota: Annotated[str, _one_of("auto", "loop", "none")] = Field(
        "auto", description="`loop`: a size-limited file system per user (needs root on the engine's host); "
        "`none`: usage is measured and a container over its quota is stopped; `auto`: `loop` when possible")
    storage_dir: Path = derived(lambda: PROJECT_ROOT / "data" / "volumes", "`data/volumes`",
                                description="Where `loop` keeps each user's file system image (on the engine's host)")
    storage_check_seconds: PositiveFloat = Field(60, description="Seconds between two measurements of every user's storage")
    container_prefix: str = Field("saas-user-", description="Name prefix of user containers (`<prefix><username>`)")
    max_concurrent_provisioning: PositiveInt = Field(8, description="Containers created at once; more requests queue (the engine does ~8/s on 2 cores)")
    user_app_port: ClassVar[int] = 8080  # the port user_dashboard listens on inside its container
    # User container isolation
    log_max_size: str = Field("10m", pattern=r"^\d+[kmg]?$", description="Log size cap of each user container (json-file driver; `k`, `m`, `g` units)")
    log_max_files: PositiveInt = Field(3, description="Log files kept per user container (json-file driver)")
    nofile_limit: PositiveInt = Field(1024, description="Open-files limit of each user container")
    redis_url: str | None = Field(None, validation_alias="REFLEX_REDIS_URL",
                                  description="Redis for Reflex's state manager, the collector lease and shared watchers (several workers)")
    metrics_interval: PositiveFloat = Field(5.0, description="Seconds between metric samples")
    inventory_reconcile_seconds: PositiveFloat = Field(
        60, description="Seconds between two full lists of the containers while the collector follows the engine's events "
        "(a safety net: in between, a sweep asks the engine nothing)")
    metrics_raw_minutes: PositiveInt = Field(120, description="Raw samples are kept this long, then folded into one-minute averages")
    metrics_rollup_days: PositiveInt = Field(7, description="One-minute averages are kept this long")
    # The edge (Caddy) in front of the panel and of every user's app
    edge: Annotated[str, _one_of("caddy", "none")] = Field(
        "caddy", description="`none`: no edge; the panel serves `PORT` itself and apps need `SAAS_PANEL_BIND_HOST` to be reachable")
    public_url: Url = derived(lambda data: f"http://localhost:{_port_of(data)}", "`http://localhost:PORT`",
                              description="The address users open (the edge); `https://...` turns on automatic HTTPS")
    apps_domain: str = Field("apps.localhost", description="Apps live at `<user>.<this>`")
    # Behind the edge only the edge talks to the panel: loopback unless told otherwise (compose).
    backend_host: str = derived(lambda data: "127.0.0.1" if _behind_edge(data) else "0.0.0.0", "`127.0.0.1` (no edge: `0.0.0.0`)",
                                description="Where the panel itself listens")
    backend_port: Port = derived(lambda data: _port_of(data) + 1 if _behind_edge(data) else _port_of(data), "`PORT+1` (no edge: `PORT`)",
                                 description="The port the panel itself listens on")
    app_cookie_seconds: PositiveInt = Field(3600, description="Lifetime of an app's cookie (a new hand-off follows, silently while the panel session lives)")
    # Web security
    allowed_origins: Origins = derived(_default_origins, "the public URL, `http://localhost:PORT`, `http://127.0.0.1:PORT`",
                                       description="Comma-separated origins the browser may use: the websocket and `/api/` refuse others")
    trusted_proxies: Networks = Field((), description="Comma-separated CIDRs of reverse proxies whose `X-Forwarded-For` is believed "
                                      "(e.g. `127.0.0.1/32`); otherwise the client is the socket peer")
    trust_proxy_headers: bool = Field(False, validation_alias="SAAS_PANEL_TRUST_PROXY",
                                      description="`1`: believe `X-Forwarded-Proto` (send HSTS when the proxy terminated TLS)")
    secret_key: str | None = Field(None, min_length=32, repr=False, description="The server secret itself, instead of the file (32+ characters)")
    secret_file: Path = derived(lambda: PROJECT_ROOT / "data" / "secret_key", "`data/secret_key` (image: `/data/secret_key`)",
                                description="The server secret (generated once, mode 0600) that keys the live rooms; every worker must see the same one")
    hsts_seconds: NonNegativeInt = Field(31_536_000, description="HSTS max-age, sent only over TLS")
    # Throttles: at most LIMIT attempts per WINDOW seconds (sliding), counted in the database
    login_account_limit: PositiveInt = Field(10, description="Login attempts per account in the login window")
    login_ip_limit: PositiveInt = Field(50, description="Login attempts per client (IPv6: per /64) in the login window")
    login_window_seconds: PositiveInt = Field(300, description="Seconds of the sliding window of the two login limits")
    signup_ip_limit: PositiveInt = Field(20, description="Signups per client (IPv6: per /64) in the signup window")
    signup_window_seconds: PositiveInt = Field(600, description="Seconds of the sliding window of the per-client signup limit")
    signup_global_limit: PositiveInt = Field(100, description="Signups from everyone together in the global signup window")
    signup_global_window_seconds: PositiveInt = Field(3600, description="Seconds of the sliding window of the global signup limit")
    signup_mode: Annotated[str, _one_of("open", "closed")] = Field(
        "open", validation_alias="SAAS_PANEL_SIGNUP", description="`closed`: only admins create accounts (the signup page says so)")
    # Housekeeping
    activity_retention_days: PositiveInt = Field(365, description="Activity rows and metrics older than this are purged in the background")
    container_action_limit: PositiveInt = Field(20, description="Start/stop/restart per user in the container action window")
    container_action_window_seconds: PositiveInt = Field(60, description="Seconds of the sliding window of the container action limit")
    api_token_limit: PositiveInt = Field(600, validation_alias="SAAS_PANEL_API_RATE_LIMIT",
                                         description="API requests per token in the API window (429 with `Retry-After`)")
    api_window_seconds: PositiveInt = Field(60, validation_alias="SAAS_PANEL_API_RATE_WINDOW_SECONDS", description="Seconds of the sliding window of the API limit")
    idle_stop_minutes: NonNegativeFloat = Field(60, description="Stop apps with no request through the edge for this long; `0`: never")
    idle_check_seconds: PositiveFloat = Field(60, description="The culler looks at most this far apart (and twice per timeout)")

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise InvalidSettings(_explain(exc)) from None


def env_variable(name: str, field: FieldInfo) -> str:
    """The environment variable that sets the field `name`."""
    return field.validation_alias if isinstance(field.validation_alias, str) else f"{ENV_PREFIX}{name.upper()}"


def _explain(error: ValidationError) -> str:
    fields = {}  # an error's location is the field's name, or its alias when it has one
    for name, field in Settings.model_fields.items():
        variable = env_variable(name, field)
        fields[name] = fields[variable] = (variable, field)
    problems = []
    for problem in error.errors():
        if problem["type"] == "default_factory_not_called":
            continue  # a default derived from another setting that is itself invalid (reported)
        variable, field = fields[problem["loc"][0]]
        message = problem["msg"]
        expected = f"be {message.removeprefix('Value error, ')}" if message.startswith("Value error, ") else re.sub(r"^\w+ should ", "", message)
        given = repr(problem["input"]) if field.repr else "the value given (not shown: a secret)"
        problems.append(f"{variable} must {expected}, not {given}")
    return "\n".join(problems)


_cached: tuple[dict, Settings] | None = None


def get_settings() -> Settings:
    """The settings of the environment as it is now: built again only when the environment
    changed since the last call (tests and CLI overrides set variables at run time).

    Building them reads the environment and `.env` (~2 ms); the edge asks on every proxied request,
    and a cached answer takes ~1 µs.
    `os.environ._data` is the raw mapping behind os.environ, compared without decoding."""
    global _cached
    environment = os.environ._data  # noqa: SLF001
    cached = _cached
    if cached is not None and cached[0] == environment:
        return cached[1]
    settings = Settings()
    _cached = (dict(environment), settings)
    return settings
