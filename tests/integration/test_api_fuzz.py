"""Schemathesis fuzzes every operation in /openapi.json with an admin token: no input gives a 500.

Runs in-process against the real engine (provisioning really creates containers,
under the test's own name prefix, removed afterwards). Examples are bounded so
the whole run stays well under a minute.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from saas_panel.api.app import create_api
from saas_panel.services import api_tokens, auth, users

schema = schemathesis.openapi.from_asgi("/openapi.json", create_api())


@pytest.fixture
def admin_token(engine, monkeypatch):
    monkeypatch.setenv("SAAS_PANEL_API_RATE_LIMIT", "100000")
    users.ensure_admin("admin password")
    return api_tokens.create(auth.authenticate("admin", "admin password"), "fuzz", "admin", 1).token


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_is_a_server_error(case, admin_token):
    case.call_and_validate(headers={"Authorization": f"Bearer {admin_token}"}, checks=[not_a_server_error])
