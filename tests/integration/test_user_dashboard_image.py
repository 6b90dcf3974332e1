"""Builds the user-dashboard image and runs it as the panel does (DockerRuntime.create, its hardened options)."""

import http.client
import json
import os
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from websockets.sync.client import connect

from saas_panel.runtime.base import ContainerSpec
from saas_panel.runtime.docker_runtime import DockerRuntime
from tests.integration.conftest import TEST_NETWORK

pytestmark = pytest.mark.engine

REPO = Path(__file__).resolve().parents[2]
IMAGE = os.environ.get("SAAS_PANEL_USER_IMAGE", "saas-panel/user-dashboard:latest")
USERNAME = "alice<b>"
NOBODY = 65534
MAX_MEMORY_BYTES = 30 * 1024 * 1024


@pytest.fixture(scope="module")
def client(docker_client):
    return docker_client


@pytest.fixture(scope="module")
def image(client):
    result = subprocess.run(
        ["bash", str(REPO / "scripts" / "build_images.sh")],
        cwd=REPO, capture_output=True, text=True, timeout=900,
    )
    print(result.stdout.strip(), result.stderr.strip())
    if result.returncode != 0:
        pytest.fail(f"build_images.sh failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return IMAGE


def _create(client, image):
    """A started container, made by the panel's own create (not a copy of its options)."""
    spec = ContainerSpec(
        name=f"saas-panel-test-{uuid.uuid4().hex[:10]}",
        image=image,
        owner=USERNAME,
        app_port=8080,
        bind_host="127.0.0.1",
        network=TEST_NETWORK,
        mem_limit_mb=128,
        cpu_limit=0.5,
        pids_limit=64,
        env={"SAAS_USERNAME": USERNAME},
    )
    return client.containers.get(DockerRuntime(client=client).create(spec).id)


def _remove(container):
    try:
        container.stop(timeout=3)
    finally:
        container.remove(force=True)


def _base_url(container) -> str:
    container.reload()
    port = container.attrs["NetworkSettings"]["Ports"]["8080/tcp"][0]["HostPort"]
    return f"http://127.0.0.1:{port}"


def _get(url: str, headers: dict | None = None, timeout: float = 2.0) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def _wait_healthy(base_url: str, deadline_s: float = 10.0) -> float:
    """Seconds until /health first answers 200 (fails the test past the deadline)."""
    start = time.monotonic()
    while time.monotonic() - start < deadline_s:
        try:
            if _get(f"{base_url}/health", timeout=0.5)[0] == 200:
                return time.monotonic() - start
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.02)
    pytest.fail(f"/health did not answer within {deadline_s}s")


@pytest.fixture(scope="module")
def running(client, image):
    start = time.monotonic()
    container = _create(client, image)
    try:
        base_url = _base_url(container)
        healthy_after = _wait_healthy(base_url)
        print(f"\n[user-dashboard] create and start to first healthy /health: {(time.monotonic() - start) * 1000:.0f} ms "
              f"({healthy_after * 1000:.0f} ms of polling)")
        yield container, base_url
    except Exception:
        print(container.logs().decode(errors="replace"))
        raise
    finally:
        _remove(container)


def test_health(running):
    _, base_url = running
    status, body = _get(f"{base_url}/health")
    assert status == 200
    assert json.loads(body)["status"] == "ok"


def test_api_info_reads_cgroup(running):
    container, base_url = running
    status, body = _get(f"{base_url}/api/info")
    assert status == 200
    info = json.loads(body)
    assert info["username"] == USERNAME
    assert info["container_id"] == container.attrs["Config"]["Hostname"]
    assert isinstance(info["memory"]["usage_bytes"], int) and info["memory"]["usage_bytes"] > 0
    assert info["memory"]["limit_bytes"] == 128 * 1024 * 1024
    assert isinstance(info["cpu_percent"], float)
    assert any(a["path"] == "/api/info" for a in info["recent_activity"])


def test_page_escapes_username(running):
    _, base_url = running
    status, page = _get(f"{base_url}/")
    assert status == 200
    assert "alice&lt;b&gt;" in page
    assert "<b>" not in page


def test_echo_headers(running):
    _, base_url = running
    status, body = _get(f"{base_url}/echo-headers", headers={"X-Saas-Test": "hello"})
    assert status == 200
    assert json.loads(body).get("X-Saas-Test") == "hello"


def test_websocket_echo(running):
    _, base_url = running
    payload = os.urandom(70_000)  # 64-bit length frames
    with connect(f"ws{base_url[4:]}/ws/echo", open_timeout=5, close_timeout=5) as ws:
        ws.send("hello, container")
        assert ws.recv(timeout=5) == "hello, container"
        ws.send(payload)
        assert ws.recv(timeout=5) == payload
        assert ws.ping(b"marco").wait(5)
        ws.close(4000, "bye")
    assert ws.close_code == 4000


def test_stream_is_chunked(running):
    _, base_url = running
    conn = http.client.HTTPConnection(base_url.removeprefix("http://"), timeout=5)
    conn.request("GET", "/stream?n=3&delay_ms=0")
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    assert resp.status == 200
    assert resp.getheader("Transfer-Encoding") == "chunked"
    assert body == b"chunk 1/3\nchunk 2/3\nchunk 3/3\n"


def test_unknown_route_is_json_404(running):
    _, base_url = running
    status, body = _get(f"{base_url}/nope")
    assert status == 404
    assert json.loads(body)["error"] == "not found"


def test_runs_as_nobody(running):
    container, _ = running
    assert container.attrs["Config"]["User"] == f"{NOBODY}:{NOBODY}"
    exit_code, output = container.exec_run(["sh", "-c", "grep -h '^Uid:' /proc/[0-9]*/status"])
    assert exit_code == 0, output
    uids = {int(field) for line in output.decode().splitlines() for field in line.split()[1:]}
    assert uids == {NOBODY}, f"every process (init, app, this exec) must be uid {NOBODY}: {output!r}"


def test_memory_under_limit(running):
    container, base_url = running
    mem = container.stats(stream=False)["memory_stats"]
    details = mem.get("stats", {})
    inactive = details.get("total_inactive_file", details.get("inactive_file", 0))
    working_set = mem["usage"] - inactive
    reported = json.loads(_get(f"{base_url}/api/info")[1])["memory"]["usage_bytes"]
    print(f"\n[user-dashboard] memory: docker stats {working_set / 2**20:.1f} MiB, "
          f"/api/info {reported / 2**20:.1f} MiB")
    assert working_set < MAX_MEMORY_BYTES
    assert reported < MAX_MEMORY_BYTES


def test_sigterm_exits_cleanly(client, image):
    container = _create(client, image)
    try:
        _wait_healthy(_base_url(container))
        container.stop(timeout=5)
        container.reload()
        # 0: the app exited on SIGTERM; had docker killed it after the timeout, 137.
        assert container.attrs["State"]["ExitCode"] == 0
    finally:
        container.remove(force=True)
