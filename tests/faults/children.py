"""Running panel code in a child process that may be killed at a fault point (saas_panel/faults.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from saas_panel import faults

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
