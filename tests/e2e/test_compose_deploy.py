"""The docker compose deployment: build, up (healthy), signup in Chromium through the edge, the
user's app opens on its own origin, down.

And its defences: only the edge (Caddy, on the host's network) listens on the public port, with no
capability but NET_BIND_SERVICE; the panel is published on the host's loopback only, user
containers not at all; the panel runs as a non-root user and reaches the engine only through a
proxy that refuses every call the panel does not make; the scale deployment (deploy/scale.yml)
refuses to start without its passwords, and its PostgreSQL and Redis demand them and are not
published.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from saas_panel.config import PROJECT_ROOT
from tests.e2e.helpers import submit_when_ready

pytestmark = pytest.mark.deploy

PORT = 18000  # the edge's, baked into this image's frontend; the default deployment uses 8000
# Both deployments are up at the end of the module: each panel on its own loopback port and subnet.
# The scale one runs no edge; it shares PORT, so the image is built once.
BACKEND_PORT, SCALE_BACKEND_PORT = 18001, 18011
# From 198.18.0.0/15 (set aside for benchmarking networks): the engine never hands these out by
# itself, so another run's network cannot already hold them.
SUBNET, SCALE_SUBNET = "198.19.254.0/24", "198.19.253.0/24"
NET_BIND_SERVICE = 1 << 10  # its bit in /proc/<pid>/status capability masks
SCALE = ("--env-file", "deploy/scale.env")
PASSWORDS = ("POSTGRES_PASSWORD", "REDIS_PASSWORD")
HEALTHY_TIMEOUT_S = 180

# From inside the panel: (method, path) -> HTTP status through the socket proxy.
PROBE = """
import json, sys, urllib.error, urllib.request
statuses = {}
for method, path in json.loads(sys.argv[1]):
    body = b"{}" if method == "POST" else None
    headers = {"Content-Type": "application/json"}
    request = urllib.request.Request("http://socket-proxy:2375" + path, body, headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            statuses[f"{method} {path}"] = response.status
    except urllib.error.HTTPError as error:
        statuses[f"{method} {path}"] = error.code
print(json.dumps(statuses))
"""


def _compose(*args: str, env: dict, check: bool = True) -> subprocess.CompletedProcess:
    command = ["docker-compose"] if shutil.which("docker-compose") else ["docker", "compose"]
    result = subprocess.run([*command, *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(command + list(args))} failed ({result.returncode}):\n{result.stderr}")
    return result


def _docker_inspect(*args: str) -> dict:
    return json.loads(subprocess.run(["docker", *args], check=True, capture_output=True, text=True).stdout)[0]


def _get(url: str, path: str = "/") -> tuple[int, dict]:
    """GET through the edge at 127.0.0.1 with the URL's Host (Python does not resolve *.localhost)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection("127.0.0.1", parts.port, timeout=10)
    try:
        connection.request("GET", path, headers={"Host": parts.netloc, "Accept": "text/html"})
        response = connection.getresponse()
        response.read()
        return response.status, {key.lower(): value for key, value in response.getheaders()}
    finally:
        connection.close()


def _listeners(port: int) -> list[tuple[str, set[int]]]:
    """(local address, pids) of every TCP socket listening on `port` on this host."""
    lines = subprocess.run(["ss", "-Hltnp", f"sport = :{port}"], check=True, capture_output=True, text=True).stdout
    return [(line.split()[3].rsplit(":", 1)[0].strip("[]"), {int(pid) for pid in re.findall(r"pid=(\d+)", line)}) for line in lines.splitlines()]


def _published(container: dict) -> list[dict]:
    """Every host binding of the container's ports."""
    return [binding for bindings in (container["NetworkSettings"]["Ports"] or {}).values() for binding in bindings or []]


@dataclass
class Deployment:
    base_url: str
    env: dict
    options: tuple[str, ...]

    def compose(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return _compose(*self.options, *args, env=self.env, check=check)

    def exec(self, service: str, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.compose("exec", "-T", service, *command, check=check)

    def container(self, service: str) -> dict | None:
        container_id = self.compose("ps", "-q", service).stdout.strip()
        return _docker_inspect("inspect", container_id) if container_id else None


def _wait_healthy(deployment: Deployment, through_edge: bool) -> None:
    deadline = time.monotonic() + HEALTHY_TIMEOUT_S
    while time.monotonic() < deadline:
        state = (deployment.container("panel") or {}).get("State", {})
        if state.get("Health", {}).get("Status") == "healthy" and (not through_edge or _edge_answers(deployment)):
            return
        if state.get("Status") == "exited":
            break
        time.sleep(2)
    logs = deployment.compose("logs", "--tail", "60", check=False).stdout
    raise AssertionError(f"the panel never became healthy{' behind the edge' if through_edge else ''}:\n{logs}")


def _edge_answers(deployment: Deployment) -> bool:
    try:
        return _get(deployment.base_url, "/ping")[0] == 200
    except OSError:
        return False


@contextmanager
def _deployed(project: str, backend_port: int, subnet: str, options: tuple[str, ...] = (), services: tuple[str, ...] = (), **settings: str):
    prefix = f"cmp{uuid.uuid4().hex[:6]}-"
    env = {
        **os.environ,
        "PORT": str(PORT),
        "SAAS_PANEL_BACKEND_PORT": str(backend_port),
        "SAAS_PANEL_COMPOSE_SUBNET": subnet,
        "SAAS_PANEL_IMAGE": "saas-panel/panel:e2e",
        "SAAS_PANEL_EDGE_IMAGE": "saas-panel/edge:e2e",
        "COMPOSE_PROJECT_NAME": project,
        "SAAS_PANEL_ADMIN_PASSWORD": "compose admin password",
        "SAAS_PANEL_CONTAINER_PREFIX": prefix,
        "VENV": str(Path(sys.executable).parent.parent),  # the scripts use this project's venv
        **settings,
    }
    for name in ("SAAS_PANEL_PUBLIC_URL", "SAAS_PANEL_APPS_DOMAIN"):
        env.pop(name, None)  # the defaults: http://localhost:PORT and *.apps.localhost
    deployment = Deployment(f"http://localhost:{PORT}", env, options)
    subprocess.run(["bash", "scripts/panel_image.sh", *options], cwd=PROJECT_ROOT, env=env, check=True)
    try:
        deployment.compose("up", "-d", *services)
        _wait_healthy(deployment, through_edge=not services or "edge" in services)
        yield deployment
    finally:
        deployment.compose("down", "-v", check=False)
        subprocess.run(
            f"docker ps -aq --filter name={prefix} | xargs -r docker rm -f", shell=True, capture_output=True
        )


@pytest.fixture(scope="module")
def deployment():
    """The quick start: SQLite, the edge, the panel, its socket proxy and the user firewall."""
    with _deployed("saas-panel-e2e", BACKEND_PORT, SUBNET) as running:
        yield running


@pytest.fixture(scope="module")
def scale_deployment():
    """PostgreSQL and Redis with fresh passwords; one worker is enough to prove the connections.
    The panel and what it depends on only: the quick start's host-wide services already run."""
    passwords = {name: secrets.token_hex(16) for name in PASSWORDS}
    with _deployed("saas-panel-e2e-scale", SCALE_BACKEND_PORT, SCALE_SUBNET, SCALE, ("panel",), GRANIAN_WORKERS="1", **passwords) as running:
        yield running


def _signed_up(browser, deployment: Deployment, name: str):
    """A browser context signed up as `name` through the edge, on its dashboard."""
    context = browser.new_context(base_url=deployment.base_url)
    context.set_default_timeout(30_000)
    page = context.new_page()
    fields = {"username": name, "email": f"{name}@example.com", "password": "compose user password"}
    submit_when_ready(page, "/signup", fields, "#signup-submit")
    page.wait_for_url("**/dashboard**")
    return context, page


def test_compose_deployment_serves_signup_and_user_apps_through_the_edge(deployment, browser):
    name = f"c{uuid.uuid4().hex[:8]}"
    context, page = _signed_up(browser, deployment, name)
    expect(page.locator("#container-status")).to_have_text("running", timeout=60_000)
    href = page.locator("#open-app").get_attribute("href")
    assert href == f"http://{name}.apps.localhost:{PORT}/"
    # The app has no host port: the edge is the only way in, and it sends a visitor without the
    # panel's hand-off to the panel, not to the app.
    user_container = _docker_inspect("inspect", deployment.env["SAAS_PANEL_CONTAINER_PREFIX"] + name)
    assert not user_container["HostConfig"]["PortBindings"] and not _published(user_container)
    status, headers = _get(href)
    assert status == 302 and headers["location"].startswith(f"{deployment.base_url}/open?"), (status, headers)

    page.goto(href)
    page.wait_for_url(f"{href}**")
    expect(page.locator("body")).to_contain_text(name)
    context.close()


def test_the_panel_sees_the_browser_address_behind_the_edge(deployment, browser):
    # The edge's requests arrive from the compose network's gateway: the panel believes its
    # X-Forwarded-For, so throttles and sessions count the browser, not the edge.
    name = f"i{uuid.uuid4().hex[:8]}"
    context, _ = _signed_up(browser, deployment, name)
    context.close()
    query = "SELECT sessions.ip FROM sessions JOIN users ON users.id = sessions.user_id WHERE users.username = ?"
    script = f"import sqlite3, sys; print(sqlite3.connect('/data/saas_control_panel.db').execute({query!r}, (sys.argv[1],)).fetchone()[0])"
    ip = deployment.exec("panel", "python3", "-c", script, name).stdout.strip()
    assert ipaddress.ip_address(ip).is_loopback, f"the panel recorded {ip} for a browser on this host"


def test_only_the_edge_listens_on_the_public_port(deployment):
    edge, panel = deployment.container("edge"), deployment.container("panel")
    assert edge["HostConfig"]["NetworkMode"] == "host"
    listeners = _listeners(PORT)
    assert listeners and all(pids == {edge["State"]["Pid"]} for _, pids in listeners), listeners
    # The panel: on the host's loopback only, for the edge.
    assert _published(panel) and all(binding["HostIp"] == "127.0.0.1" for binding in _published(panel)), _published(panel)
    assert all(address != "*" and ipaddress.ip_address(address).is_loopback for address, _ in _listeners(BACKEND_PORT))
    for service in ("socket-proxy", "firewall"):
        assert not _published(deployment.container(service)), f"{service} is published on the host"


def test_the_edge_holds_no_capability_but_binding_low_ports(deployment):
    edge = deployment.container("edge")
    assert edge["HostConfig"]["CapDrop"] == ["ALL"] and edge["HostConfig"]["CapAdd"] == ["NET_BIND_SERVICE"]
    assert edge["HostConfig"]["ReadonlyRootfs"]
    status = dict(line.split(":", 1) for line in deployment.exec("edge", "cat", "/proc/1/status").stdout.splitlines())
    assert "caddy" in deployment.exec("edge", "cat", "/proc/1/cmdline").stdout
    assert "0" not in status["Uid"].split(), f"the edge runs with uids {status['Uid']}"
    assert int(status["CapBnd"], 16) == NET_BIND_SERVICE


def test_the_panel_process_runs_as_a_non_root_user(deployment):
    status = deployment.exec("panel", "cat", "/proc/1/status").stdout
    uids = next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1:]
    assert "python3" in deployment.exec("panel", "cat", "/proc/1/cmdline").stdout
    assert "0" not in uids, f"the panel runs with uids {uids}"


def test_the_engine_socket_is_not_mounted_into_the_panel(deployment):
    panel = deployment.container("panel")
    assert not [mount for mount in panel["Mounts"] if "docker.sock" in mount["Source"] + mount["Destination"]]
    assert deployment.exec("panel", "test", "-e", "/var/run/docker.sock", check=False).returncode != 0
    assert "DOCKER_HOST=tcp://socket-proxy:2375" in panel["Config"]["Env"]


def test_only_the_panel_reaches_the_socket_proxy(deployment):
    panel, proxy = deployment.container("panel"), deployment.container("socket-proxy")
    [network_name] = proxy["NetworkSettings"]["Networks"]
    network = _docker_inspect("network", "inspect", network_name)
    assert network["Internal"], "the proxy's network must have no way out"
    assert set(network["Containers"]) == {panel["Id"], proxy["Id"]}
    assert not proxy["HostConfig"]["PortBindings"]


def test_the_socket_proxy_refuses_calls_the_panel_does_not_make(deployment):
    panel_id = deployment.container("panel")["Id"]
    allowed = [("GET", "/v1.41/version"), ("GET", "/_ping"), ("GET", "/v1.41/containers/json")]
    refused = [
        ("POST", "/v1.41/images/create?fromImage=busybox"),
        ("GET", "/v1.41/volumes"),
        ("POST", f"/v1.41/containers/{panel_id}/exec"),
        ("GET", f"/v1.41/containers/{panel_id}/archive?path=/etc"),
        ("GET", f"/v1.41/containers/{panel_id}/archive?path=%2Fdata%2F..%2Fetc"),
        ("GET", "/v1.41/info"),
        ("POST", "/v1.41/build"),
        ("GET", "/v1.41/secrets"),
        ("GET", "/v1.41/plugins"),
        ("POST", "/v1.41/swarm/init"),
        ("POST", "/v1.41/networks/bridge/connect"),
        ("GET", "/v1.41/containers/../info"),
    ]
    statuses = json.loads(deployment.exec("panel", "python3", "-c", PROBE, json.dumps(allowed + refused)).stdout)
    assert statuses == {
        **{f"{method} {path}": 200 for method, path in allowed},
        **{f"{method} {path}": 403 for method, path in refused},
    }


@pytest.mark.parametrize("missing", PASSWORDS)
def test_the_scale_deployment_refuses_to_start_without_a_password(missing):
    env = {**os.environ, **{name: "set" for name in PASSWORDS}}
    del env[missing]
    refused = _compose(*SCALE, "config", env=env, check=False)
    assert refused.returncode != 0 and f"{missing} is required" in refused.stderr, refused.stderr
    # The quick start needs neither.
    quick = {key: value for key, value in env.items() if key not in PASSWORDS}
    assert _compose("config", env=quick, check=False).returncode == 0


def test_the_scale_deployment_connects_with_its_passwords(scale_deployment):
    # Healthy means the panel migrated the database; Redis is checked with the panel's own URL.
    ping = "import os, redis; print(redis.Redis.from_url(os.environ['REFLEX_REDIS_URL']).ping())"
    assert scale_deployment.exec("panel", "python3", "-c", ping).stdout.strip() == "True"


def test_redis_demands_its_password(scale_deployment):
    anonymous = scale_deployment.exec("redis", "redis-cli", "ping", check=False)
    assert "NOAUTH" in anonymous.stdout + anonymous.stderr


def test_postgres_and_redis_are_not_published(scale_deployment):
    for service in ("postgres", "redis"):
        container = scale_deployment.container(service)
        assert not container["HostConfig"]["PortBindings"], f"{service} is published on the host"
        assert not any(container["NetworkSettings"]["Ports"].values()), f"{service} is published on the host"


def test_postgres_accepts_password_logins_only_from_the_compose_network(scale_deployment):
    [network_name] = scale_deployment.container("postgres")["NetworkSettings"]["Networks"]
    [ipam] = _docker_inspect("network", "inspect", network_name)["IPAM"]["Config"]
    subnet = ipaddress.ip_network(ipam["Subnet"])
    query = "SELECT type, address, netmask, auth_method FROM pg_hba_file_rules"
    rules = scale_deployment.exec(
        "postgres", "sh", "-c", f'PGPASSWORD="$POSTGRES_PASSWORD" psql -U saas -d saas_panel -At -F "|" -c "{query}"'
    ).stdout.split()
    networks = set()
    for rule in rules:
        kind, address, netmask, method = rule.split("|")
        assert method == "scram-sha-256", rule
        if kind != "local":
            networks.add(ipaddress.ip_network(f"{address}/{netmask}"))
    assert networks == {ipaddress.ip_network("127.0.0.1/32"), subnet}


BACKUPS_LOGGED = (
    "from sqlalchemy import text; from saas_panel.db import get_engine\n"
    "with get_engine().connect() as c: print(c.execute(text(\"SELECT count(*) FROM activity_logs WHERE action = 'backup'\")).scalar())"
)


@pytest.mark.parametrize("which", ["deployment", "scale_deployment"])
def test_an_operator_backs_up_and_restores_the_running_panels_database(which, request):
    """What README's Backups tells an operator to run, inside the panel's container, on SQLite
    (the quick start) and on PostgreSQL (the scale profile, with the image's own pg_dump)."""
    running: Deployment = request.getfixturevalue(which)
    backups_logged = lambda: int(running.exec("panel", "python3", "-c", BACKUPS_LOGGED).stdout.strip())  # noqa: E731
    name = f"/data/e2e-{uuid.uuid4().hex[:6]}"
    running.exec("panel", "python3", "-m", "saas_panel", "backup", f"{name}-1.backup")
    running.exec("panel", "python3", "-m", "saas_panel", "backup", f"{name}-2.backup")
    later = backups_logged()  # the second backup's line is not in the first backup
    restored = running.exec("panel", "python3", "-m", "saas_panel", "restore", "--yes", f"{name}-1.backup")
    assert restored.returncode == 0, restored.stderr
    assert backups_logged() < later
    running.exec("panel", "rm", "-f", f"{name}-1.backup", f"{name}-2.backup")
