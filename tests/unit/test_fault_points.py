"""The fault-point hook (saas_panel/faults.py): known names only, each one placed in the code."""

from __future__ import annotations

import re
import signal

import pytest

from saas_panel import faults
from saas_panel.config import PROJECT_ROOT
from tests.faults.helpers import run_python


def test_every_known_point_is_placed_once_in_the_code():
    placed = []
    for path in (PROJECT_ROOT / "saas_panel").rglob("*.py"):
        placed += re.findall(r'faults\.reached\("([a-z_.]+)"\)', path.read_text())
    assert sorted(placed) == sorted(faults.POINTS)


def test_an_unknown_point_stops_the_process_at_import():
    result = run_python(["-c", "import saas_panel.faults"], fault_point="provision.typo")
    assert result.returncode == 1 and "names no fault point" in result.stderr


@pytest.mark.parametrize("armed", [None, "delete.marked"])
def test_a_point_other_than_the_armed_one_does_nothing(armed):
    code = "from saas_panel import faults; faults.reached('provision.row_written'); print('alive')"
    assert run_python(["-c", code], fault_point=armed).stdout == "alive\n"


def test_the_armed_point_kills_the_process():
    code = "from saas_panel import faults; faults.reached('delete.marked'); print('alive')"
    result = run_python(["-c", code], fault_point="delete.marked")
    assert (result.returncode, result.stdout) == (-signal.SIGKILL, "")
