"""Helpers shared by benchmarks: a scratch database and timing."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def scratch_database():
    """A fresh migrated SQLite file for the duration of the benchmark."""
    from saas_panel import migrations

    with tempfile.TemporaryDirectory(prefix="saas-bench-") as workdir:
        previous = os.environ.get("REFLEX_DB_URL")
        os.environ["REFLEX_DB_URL"] = f"sqlite:///{Path(workdir) / 'bench.db'}"
        try:
            migrations.upgrade()
            yield
        finally:
            if previous is None:
                os.environ.pop("REFLEX_DB_URL", None)
            else:
                os.environ["REFLEX_DB_URL"] = previous


@contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """`values` set in os.environ for the duration of the block (the settings re-read it), then restored."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def median_seconds(fn: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)
