"""What the edge costs a user's app: its /health straight to the container against through the edge.

Setup (not timed): a real panel with Caddy in front (devtools/panel.py); in
this process, against the panel's database, a user is registered, their
container provisioned, a panel session opened (`auth.login`) and a one-time
ticket issued for their app (`app_access.issue_ticket`), redeemed at
`<app origin>/_edge/callback` through the edge for the `saas_app` cookie.
Every request to the edge goes to 127.0.0.1:<edge port> with a
`Host: <label>.apps.localhost:<port>` header (Python does not resolve *.localhost).

Measured, in the same run and with the same asyncio keep-alive client, for
`GET /health` straight to the container (its address on the user network,
port 8080) and through the edge with the cookie (Caddy: forward_auth to the
panel's `/_edge/verify`, then the proxy to the container):

The raw tool in the same run: Caddy alone (`caddy_only_*`), a plain
`reverse_proxy` to the container on another port, without forward_auth: what
the proxy hop costs by itself, the floor for anything behind Caddy.

- `*_rps`: requests/s of CLIENTS concurrent keep-alive connections for
  SECONDS (ROUNDS rounds, the three paths alternating; the median round).
- `*_p50_ms`, `edge_p99_ms`: latency of one sequential keep-alive client
  (LATENCY_REQUESTS requests), i.e. what one request costs without queueing;
  `loaded_*_p50_ms` is the p50 under the concurrent load.
- `goal_met` is null (with a `note`) when the app itself stalls (direct p50 >= STALL_MS).
- `ws_rtt_ms`: median round trip of a text message on `/ws/echo` through the
  edge (WS_MESSAGES messages on one connection); `direct_ws_rtt_ms` the same
  straight to the container.

The panel is stopped and its containers removed on exit (also on Ctrl-C).
"""

from __future__ import annotations

import asyncio
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import environment

CLIENTS = 4
SECONDS = 4.0
MAX_REQUESTS = 50_000  # per round, whatever SECONDS allows
ROUNDS = 3
WARMUP_REQUESTS = 200
LATENCY_REQUESTS = 1_000
WS_MESSAGES = 300
APP_PORT = 8080
GOAL_RATIO = 0.5
GOAL_ADDED_P50_MS = 2.0
# A direct p50 this slow is the app's own stall (a response written in two sends under Nagle
# meets the client's delayed ACK: ~40 ms), which hides what the edge costs.
STALL_MS = 20.0
ADMIN_PASSWORD = "bench admin password"
USER_PASSWORD = "bench user password"


@dataclass(frozen=True)
class Target:
    """Where a client connects and the Host (and Cookie) it sends."""

    address: tuple[str, int]
    host: str
    cookie: str = ""

    def request(self, path: str) -> bytes:
        cookie = f"Cookie: {self.cookie}\r\n" if self.cookie else ""
        return f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\nAccept: application/json\r\n{cookie}\r\n".encode()


# --- a small keep-alive HTTP/1.1 client: the same for both paths -----------------------


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    length = next((int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:")), None)
    if length is None:
        raise RuntimeError(f"no Content-Length in the answer: {head!r}")
    await reader.readexactly(length)
    return int(status_line.split()[1])


async def _client(target: Target, request: bytes, deadline: float, budget: list[int], latencies: list[float]) -> None:
    reader, writer = await asyncio.open_connection(*target.address)
    try:
        while budget[0] > 0 and time.perf_counter() < deadline:
            budget[0] -= 1
            start = time.perf_counter()
            status = await _exchange(reader, writer, request)
            latencies.append(time.perf_counter() - start)
            if status != 200:
                raise RuntimeError(f"GET /health via {target.host} answered {status}")
    finally:
        writer.close()


def _load(target: Target, clients: int, seconds: float, max_requests: int) -> tuple[float, list[float]]:
    """(requests/s, latencies in s) of `clients` keep-alive connections for `seconds` at most."""

    async def main() -> tuple[float, list[float]]:
        request = target.request("/health")
        latencies: list[float] = []
        budget = [max_requests]
        start = time.perf_counter()
        await asyncio.gather(*(_client(target, request, start + seconds, budget, latencies) for _ in range(clients)))
        return len(latencies) / (time.perf_counter() - start), latencies

    return asyncio.run(main())


def _percentile_ms(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000, 3)


# --- websocket echo ------------------------------------------------------------------


def _ws_rtt(target: Target) -> float:
    """Median round trip (s) of a short text message on /ws/echo."""
    from websockets.sync.client import connect

    sock = socket.create_connection(target.address, timeout=10)
    headers = {"Cookie": target.cookie} if target.cookie else {}
    with connect(f"ws://{target.host}/ws/echo", sock=sock, additional_headers=headers, open_timeout=10) as ws:
        samples = []
        for index in range(WS_MESSAGES):
            message = f"ping {index}"
            start = time.perf_counter()
            ws.send(message)
            if ws.recv(timeout=10) != message:
                raise RuntimeError("the websocket echo answered something else")
            samples.append(time.perf_counter() - start)
    return statistics.median(samples)


# --- setup -----------------------------------------------------------------------------


def _panel_environment(panel):
    """This process uses the panel's database, container prefix and public URL (the secret is shared
    by default: both read data/secret_key under the project root)."""
    keys = ("REFLEX_DB_URL", "SAAS_PANEL_CONTAINER_PREFIX", "PORT", "SAAS_PANEL_BCRYPT_ROUNDS")
    return environment({key: panel.env[key] for key in keys if key in panel.env})


def _container_address(name: str, network: str) -> str:
    raw = subprocess.run(["docker", "inspect", "-f", "{{json .NetworkSettings.Networks}}", name], capture_output=True, text=True, check=True).stdout
    return json.loads(raw)[network]["IPAddress"]


def _wait_healthy(target: Target, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            _load(target, 1, 1.0, 1)
            return
        except (OSError, RuntimeError, asyncio.IncompleteReadError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _app_cookie(edge: tuple[str, int], app_host: str, ticket: str) -> str:
    """Redeem the ticket through the edge; returns `saas_app=<value>`."""
    import http.client
    from urllib.parse import quote

    from saas_panel.services import app_access

    connection = http.client.HTTPConnection(*edge, timeout=10)
    try:
        connection.request("GET", f"{app_access.CALLBACK_PATH}?ticket={quote(ticket)}&next=/", headers={"Host": app_host})
        response = connection.getresponse()
        response.read()
        set_cookie = response.getheader("set-cookie") or ""
    finally:
        connection.close()
    if response.status != 302 or not set_cookie.startswith(app_access.COOKIE_NAME + "="):
        raise RuntimeError(f"the ticket was not redeemed: {response.status} {set_cookie!r}")
    return set_cookie.split(";", 1)[0]


@contextmanager
def _caddy_only(workdir: Path, upstream: tuple[str, int]) -> Iterator[Target]:
    """Caddy alone in front of the app: a plain reverse_proxy, no forward_auth."""
    from devtools.panel import free_port

    port = free_port()
    config = workdir / "caddy-only.Caddyfile"
    config.write_text(f"{{\n\tadmin off\n\tauto_https off\n}}\n\n:{port} {{\n\treverse_proxy {upstream[0]}:{upstream[1]}\n}}\n")
    process = subprocess.Popen(["caddy", "run", "--config", str(config), "--adapter", "caddyfile"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        target = Target(("127.0.0.1", port), f"localhost:{port}")
        _wait_healthy(target)
        yield target
    finally:
        process.terminate()
        process.wait(timeout=10)


def _targets(panel) -> tuple[Target, Target]:
    """(direct, edge) for a freshly provisioned user's app."""
    from sqlmodel import select

    from saas_panel.config import get_settings
    from saas_panel.db import session_scope
    from saas_panel.models import UserSession
    from saas_panel.services import app_access, auth, host_labels, provisioning
    from saas_panel.services.security import hash_token

    username = f"p{uuid.uuid4().hex[:10]}"
    auth.register(username, f"{username}@bench.example.com", USER_PASSWORD)
    view = provisioning.provision(username)
    user, token = auth.login(username, USER_PASSWORD)
    with session_scope() as session:
        session_id = session.exec(select(UserSession.id).where(UserSession.token_hash == hash_token(token))).one()
    label = host_labels.label_for(username) or username
    app_host = f"{label}.{get_settings().apps_domain}:{panel.port}"
    edge = ("127.0.0.1", panel.port)

    direct = Target((_container_address(view.name, get_settings().user_network), APP_PORT), f"{label}:{APP_PORT}")
    _wait_healthy(direct)
    cookie = _app_cookie(edge, app_host, app_access.issue_ticket(session_id, user.id, label))
    through_edge = Target(edge, app_host, cookie)
    _wait_healthy(through_edge)
    return direct, through_edge


# --- the measurement ----------------------------------------------------------------------


def _measure(panel) -> dict:
    direct, edge = _targets(panel)
    with _caddy_only(panel.workdir, direct.address) as caddy_only:
        paths = {"direct": direct, "caddy_only": caddy_only, "edge": edge}
        for target in paths.values():
            _load(target, CLIENTS, SECONDS, WARMUP_REQUESTS)
        rps: dict[str, list[float]] = {name: [] for name in paths}
        loaded: dict[str, list[float]] = {name: [] for name in paths}
        for index in range(ROUNDS):
            for name, target in paths.items():
                rate, latencies = _load(target, CLIENTS, SECONDS, MAX_REQUESTS)
                rps[name].append(rate)
                loaded[name].extend(latencies)
                print(f"[bench proxy] round {index + 1} {name}: {rate:.0f} req/s", file=sys.stderr)
        single = {name: _load(target, 1, 60.0, LATENCY_REQUESTS)[1] for name, target in paths.items()}

    direct_rps, edge_rps = statistics.median(rps["direct"]), statistics.median(rps["edge"])
    direct_p50, edge_p50 = _percentile_ms(single["direct"], 0.5), _percentile_ms(single["edge"], 0.5)
    ratio = edge_rps / direct_rps
    stalled = direct_p50 >= STALL_MS
    return {
        "bench": "proxy",
        "direct_rps": round(direct_rps),
        "edge_rps": round(edge_rps),
        "throughput_ratio": round(ratio, 3),
        "direct_p50_ms": direct_p50,
        "edge_p50_ms": edge_p50,
        "added_p50_ms": round(edge_p50 - direct_p50, 3),
        "caddy_only_rps": round(statistics.median(rps["caddy_only"])),
        "caddy_only_p50_ms": _percentile_ms(single["caddy_only"], 0.5),
        "direct_p99_ms": _percentile_ms(single["direct"], 0.99),
        "edge_p99_ms": _percentile_ms(single["edge"], 0.99),
        "loaded_direct_p50_ms": _percentile_ms(loaded["direct"], 0.5),
        "loaded_caddy_only_p50_ms": _percentile_ms(loaded["caddy_only"], 0.5),
        "loaded_edge_p50_ms": _percentile_ms(loaded["edge"], 0.5),
        "ws_rtt_ms": round(_ws_rtt(edge) * 1000, 3),
        "direct_ws_rtt_ms": round(_ws_rtt(direct) * 1000, 3),
        "clients": CLIENTS,
        "round_s": SECONDS,
        "rounds": ROUNDS,
        "goal_met": None if stalled else ratio >= GOAL_RATIO and edge_p50 - direct_p50 <= GOAL_ADDED_P50_MS,
        **({"note": "the app stalls ~40 ms per response (Nagle + delayed ACK): edge overhead hidden"} if stalled else {}),
    }


def run():
    from devtools.panel import running_panel

    with tempfile.TemporaryDirectory(prefix="saas-bench-proxy-") as workdir:
        overrides = {"SAAS_PANEL_BCRYPT_ROUNDS": "4"}
        with running_panel(Path(workdir), ADMIN_PASSWORD, overrides, container_prefix=f"bench-px-{uuid.uuid4().hex[:6]}-") as panel:
            with _panel_environment(panel):
                result = _measure(panel)
    yield result
