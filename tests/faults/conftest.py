"""Fault-injection tests: real processes killed, stopped or starved, and what the panel does after."""

from __future__ import annotations

import glob
import os
import shutil

import pytest

from tests.conftest import empty_postgres, own_database
from tests.faults.own_services import OwnServices
from tests.integration.conftest import docker_client, engine  # noqa: F401 - fixtures shared with the integration tests
from tests.prerequisites import skip_outside_ci

FAULTS_DATABASE = "saas_panel_faults"  # beside the e2e panel's, which may be running in the same session


def panel_settings() -> dict[str, str]:
    """A real panel's settings for these tests: SQLite and one worker, or in the second run of
    `make test` PostgreSQL (a database of their own, emptied), Redis and several workers."""
    settings = {"SAAS_PANEL_METRICS_INTERVAL": "1", "SAAS_PANEL_BCRYPT_ROUNDS": "4",
                "SAAS_PANEL_BIND_HOST": "127.0.0.1"}  # the tests reach the apps on a loopback port
    e2e_url = os.environ.get("SAAS_PANEL_TEST_E2E_DB_URL")
    if e2e_url:
        settings.update(REFLEX_DB_URL=empty_postgres(own_database(e2e_url, FAULTS_DATABASE)),
                        REFLEX_REDIS_URL=os.environ["SAAS_PANEL_TEST_REDIS_URL"], GRANIAN_WORKERS="3")
    return settings


@pytest.fixture(scope="module")
def own_services():
    """A PostgreSQL and a Redis that the module's tests may stop and start."""
    if not shutil.which("redis-server") or not glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"):
        skip_outside_ci("PostgreSQL and Redis are not installed: `make test` installs them")
    services = OwnServices.start()
    try:
        yield services
    finally:
        services.stop()
