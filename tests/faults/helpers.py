"""Panel code in a child process that may be killed at a fault point (saas_panel/faults.py), and
what the tests check once the dust settles."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from sqlmodel import select

from saas_panel import faults
from saas_panel.config import get_settings
from saas_panel.db import session_scope
from saas_panel.models import Container, User
from saas_panel.runtime.base import OWNER_LABEL
from saas_panel.services import provisioning

ROOT = Path(__file__).resolve().parents[2]  # the child imports this checkout's saas_panel
CHILD_TIMEOUT_S = 180


def run_python(args: list[str], fault_point: str | None = None) -> subprocess.CompletedProcess:
    """`python <args>` with this process's settings (the environment), armed at `fault_point`."""
    env = {key: value for key, value in os.environ.items() if key != faults.ENV}
    if fault_point is not None:
        env[faults.ENV] = fault_point
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S)


def killed_at(point: str, code: str) -> None:
    """Run `code` in a child that must die (SIGKILL) at `point`: proof the point was reached."""
    result = run_python(["-c", code], fault_point=point)
    assert result.returncode == -signal.SIGKILL, (
        f"the child was not killed at {point} (exit {result.returncode}):\n{result.stdout}{result.stderr}"
    )


def recover() -> str:
    """What every backend start runs, in a fresh process; its report."""
    result = run_python(["-m", "saas_panel", "recover"])
    assert result.returncode == 0, f"recovery failed (exit {result.returncode}):\n{result.stdout}{result.stderr}"
    return result.stdout


NOTHING_LEFT = "nothing was left half done"


def wait_until(condition: Callable[[], object], what: str, timeout: float = 60) -> object:
    """Poll `condition` until it returns something true (returned); fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, f"still waiting for {what} after {timeout:g}s"
        time.sleep(0.05)
    return result


def containers_of(docker_client, prefix: str, username: str) -> list:
    """The engine's containers of this test labelled for `username` (another run may have an alice)."""
    found = docker_client.containers.list(all=True, filters={"label": f"{OWNER_LABEL}={username}"})
    return [container for container in found if container.name.startswith(prefix)]


def answers(port: int, path: str = "/health", host: str = "127.0.0.1") -> bool:
    try:
        with urllib.request.urlopen(f"http://{host}:{port}{path}", timeout=2) as response:
            return b"ok" in response.read()
    except OSError:
        return False


def assert_one_running_app(docker_client, prefix: str, username: str):
    """One account, one row, one running container under its name, the row saying what the engine does."""
    with session_scope() as session:
        accounts = session.exec(select(User).where(User.username == username)).all()
        rows = session.exec(select(Container).join(User, User.id == Container.user_id).where(User.username == username)).all()
    assert len(accounts) == 1 and len(rows) == 1
    [container] = containers_of(docker_client, prefix, username)
    port = int(container.ports[f"{get_settings().user_app_port}/tcp"][0]["HostPort"])
    assert (container.name, container.status) == (provisioning.container_name(username), "running")
    assert (rows[0].state, rows[0].engine_id, rows[0].host_port) == ("running", container.id, port)
    wait_until(lambda: answers(port), f"{username}'s app to answer", timeout=30)
    return container
