"""Fault-injection tests: real processes killed, stopped or starved, and what the panel does after."""

from tests.integration.conftest import docker_client, engine  # noqa: F401 - fixtures shared with the integration tests
