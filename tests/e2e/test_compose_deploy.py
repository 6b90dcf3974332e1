"""The docker compose deployment: build, up (healthy), signup in Chromium, the user's app answers, down.

And its defences: the panel runs as a non-root user and reaches the engine only through a proxy
that refuses every call the panel does not make; the scale deployment (deploy/scale.yml) refuses
to start without its passwords, and its PostgreSQL and Redis demand them and are not published.
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import expect

from saas_panel.config import PROJECT_ROOT
from tests.e2e.helpers import sign_up

pytestmark = pytest.mark.deploy

PORT = 18000  # baked into this image's frontend; the default deployment uses 8000
SCALE_PORT = 18001  # both deployments are up at the end of the module; /ping needs no frontend
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
    return subprocess.run([*command, *args], cwd=PROJECT_ROOT, env=env, check=check, capture_output=True, text=True)


def _docker_inspect(*args: str) -> dict:
    return json.loads(subprocess.run(["docker", *args], check=True, capture_output=True, text=True).stdout)[0]


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


def _wait_healthy(deployment: Deployment) -> None:
    deadline = time.monotonic() + HEALTHY_TIMEOUT_S
    while time.monotonic() < deadline:
        state = (deployment.container("panel") or {}).get("State", {})
        if state.get("Health", {}).get("Status") == "healthy":
            return
        if state.get("Status") == "exited":
            break
        time.sleep(2)
    logs = deployment.compose("logs", "--tail", "60", check=False).stdout
    raise AssertionError(f"the panel never became healthy:\n{logs}")


@contextmanager
def _deployed(project: str, port: int, options: tuple[str, ...] = (), services: tuple[str, ...] = (), **settings: str):
    prefix = f"cmp{uuid.uuid4().hex[:6]}-"
    env = {
        **os.environ,
        "PORT": str(port),
        "SAAS_PANEL_IMAGE": "saas-panel/panel:e2e",
        "COMPOSE_PROJECT_NAME": project,
        "SAAS_PANEL_ADMIN_PASSWORD": "compose admin password",
        "SAAS_PANEL_CONTAINER_PREFIX": prefix,
        "VENV": str(Path(sys.executable).parent.parent),  # the scripts use this project's venv
        **settings,
    }
    deployment = Deployment(f"http://127.0.0.1:{port}", env, options)
    subprocess.run(["bash", "scripts/panel_image.sh", *options], cwd=PROJECT_ROOT, env=env, check=True)
    try:
        deployment.compose("up", "-d", *services)
        _wait_healthy(deployment)
        yield deployment
    finally:
        deployment.compose("down", "-v", check=False)
        subprocess.run(
            f"docker ps -aq --filter name={prefix} | xargs -r docker rm -f", shell=True, capture_output=True
        )


@pytest.fixture(scope="module")
def deployment():
    """The quick start: SQLite, the panel and its socket proxy."""
    with _deployed("saas-panel-e2e", PORT) as running:
        yield running


@pytest.fixture(scope="module")
def scale_deployment():
    """PostgreSQL and Redis with fresh passwords; one worker is enough to prove the connections.
    The panel and what it depends on only: the quick start's host-wide services already run."""
    passwords = {name: secrets.token_hex(16) for name in PASSWORDS}
    with _deployed("saas-panel-e2e-scale", SCALE_PORT, SCALE, ("panel",), GRANIAN_WORKERS="1", **passwords) as running:
        yield running


def test_compose_deployment_serves_signup_and_user_apps(deployment, browser):
    context = browser.new_context(base_url=deployment.base_url)
    context.set_default_timeout(30_000)
    page = context.new_page()
    name = f"c{uuid.uuid4().hex[:8]}"
    sign_up(page, name)
    page.wait_for_url("**/dashboard**")
    expect(page.locator("#container-status")).to_have_text("running", timeout=60_000)
    href = page.locator("#open-app").get_attribute("href")
    with urllib.request.urlopen(href, timeout=10) as response:
        assert response.status == 200 and name in response.read().decode()
    context.close()


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
        ("GET", f"/v1.41/containers/{panel_id}/archive?path=/data"),
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
