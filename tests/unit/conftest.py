"""Unit tests reach no container engine: the runtime services share (`get_runtime()`) is in memory.

Deleting an account asks the runtime to remove the account's data volume, container or not;
against the real engine that would need one, and could meet a volume of a panel running here.
"""

from __future__ import annotations

import pytest

from saas_panel import runtime
from tests.mocking import FakeRuntime


@pytest.fixture(autouse=True)
def in_memory_engine(monkeypatch):
    monkeypatch.setattr(runtime, "_shared", FakeRuntime())
