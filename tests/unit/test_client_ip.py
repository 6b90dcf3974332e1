"""The client's address: X-Forwarded-For is believed only from trusted proxies; IPv6 is counted per /64."""

from __future__ import annotations

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from saas_panel.api.app import create_api
from saas_panel.config import get_settings
from saas_panel.db import session_scope
from saas_panel.errors import AuthenticationError, Throttled
from saas_panel.models import ActivityLog
from saas_panel.services import api_tokens, auth, users
from saas_panel.services.client_ip import resolve, throttle_key

SPOOFED = "6.6.6.6"
CLIENT = "198.51.100.7"


def test_without_trusted_proxies_the_header_is_ignored(monkeypatch):
    monkeypatch.delenv("SAAS_PANEL_TRUSTED_PROXIES", raising=False)
    assert resolve("10.0.0.2", f"{SPOOFED}, {CLIENT}") == "10.0.0.2"
    assert resolve("203.0.113.5", "") == "203.0.113.5"


def test_a_spoofed_header_from_an_untrusted_peer_is_ignored(monkeypatch):
    monkeypatch.setenv("SAAS_PANEL_TRUSTED_PROXIES", "10.0.0.0/8")
    assert resolve("203.0.113.5", SPOOFED) == "203.0.113.5"
    assert resolve("testclient", SPOOFED) == "testclient"  # not an address at all: nothing to trust


def test_behind_a_trusted_proxy_the_rightmost_untrusted_hop_is_the_client(monkeypatch):
    monkeypatch.setenv("SAAS_PANEL_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.0.0/16")
    assert resolve("10.0.0.2", CLIENT) == CLIENT
    # What the client sent itself sits left of what the proxies appended.
    assert resolve("10.0.0.2", f"{SPOOFED}, {CLIENT}") == CLIENT
    assert resolve("10.0.0.2", f"{SPOOFED}, {CLIENT}, 192.168.1.1, 10.0.0.3") == CLIENT  # trusted hops skipped
    assert resolve("10.0.0.2", "192.168.1.1, 10.0.0.3") == "192.168.1.1"  # every hop trusted: the leftmost one


@pytest.mark.parametrize("malformed", ["garbage", "198.51.100.9:4711", "unknown", "999.1.1.1"])
def test_a_malformed_hop_stops_the_walk_at_the_last_trusted_proxy(monkeypatch, malformed):
    monkeypatch.setenv("SAAS_PANEL_TRUSTED_PROXIES", "10.0.0.0/8")
    assert resolve("10.0.0.2", f"{SPOOFED}, {malformed}") == "10.0.0.2"
    assert resolve("10.0.0.2", f"{SPOOFED}, {malformed}, 10.0.0.3") == "10.0.0.3"


def test_ipv4_mapped_ipv6_is_the_ipv4_address(monkeypatch):
    monkeypatch.setenv("SAAS_PANEL_TRUSTED_PROXIES", "10.0.0.0/8")
    assert resolve("::ffff:10.0.0.2", CLIENT) == CLIENT  # a dual-stack socket's view of a trusted proxy
    assert resolve("10.0.0.2", f"::ffff:{CLIENT}") == CLIENT
    assert resolve("::ffff:203.0.113.5", SPOOFED) == "203.0.113.5"
    assert throttle_key("::ffff:203.0.113.5") == "203.0.113.5"


def test_ipv6_proxies_and_clients(monkeypatch):
    monkeypatch.setenv("SAAS_PANEL_TRUSTED_PROXIES", "10.0.0.0/8,fd00::/8")
    assert resolve("fd00::1", "[2001:db8::5]") == "2001:db8::5"
    assert resolve("2001:db8::1", SPOOFED) == "2001:db8::1"


def test_invalid_trusted_proxies_are_a_clear_error(monkeypatch):
    monkeypatch.setenv("SAAS_PANEL_TRUSTED_PROXIES", "10.0.0.0/8, proxy.example")
    with pytest.raises(ValueError, match="SAAS_PANEL_TRUSTED_PROXIES must be a comma-separated list of CIDRs"):
        get_settings()


def test_throttles_count_ipv4_per_address_and_ipv6_per_64():
    assert throttle_key("203.0.113.5") == "203.0.113.5"
    assert throttle_key("2001:db8:1:2::1") == throttle_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert throttle_key("2001:db8:1:3::1") != throttle_key("2001:db8:1:2::1")


def test_addresses_in_one_ipv6_64_share_the_login_limit_per_ip(db, monkeypatch):
    monkeypatch.setenv("SAAS_PANEL_LOGIN_IP_LIMIT", "2")
    for name, ip in (("bob", "2001:db8:1:2::1"), ("carol", "2001:db8:1:2:ffff::9")):
        with pytest.raises(AuthenticationError):
            auth.authenticate(name, "guess", ip)
    with pytest.raises(Throttled):
        auth.authenticate("dave", "guess", "2001:db8:1:2:abcd::1")
    with pytest.raises(AuthenticationError):  # the neighbouring /64 is another client
        auth.authenticate("dave", "guess", "2001:db8:1:3::1")


# --- through the API: the IP in the activity log -----------------------------


def _logged_ip_of_a_denied_call(peer: str, forwarded_for: str) -> str:
    """Make a read-scope token's write call from socket `peer` and return the IP its denial was logged with."""
    users.ensure_admin("admin password")
    admin = auth.authenticate("admin", "admin password")
    token = api_tokens.create(admin, f"read from {peer}", "read", 30).token
    client = TestClient(create_api(), client=(peer, 50000))
    response = client.post("/api/containers/1/stop", headers={"Authorization": f"Bearer {token}", "X-Forwarded-For": forwarded_for})
    assert response.status_code == 403
    with session_scope() as session:
        return session.exec(select(ActivityLog.ip).where(ActivityLog.outcome == "denied").order_by(ActivityLog.id.desc())).first()


def test_the_api_believes_forwarded_for_only_from_a_trusted_proxy(db, monkeypatch):
    assert _logged_ip_of_a_denied_call("10.0.0.2", f"{SPOOFED}, {CLIENT}") == "10.0.0.2"
    monkeypatch.setenv("SAAS_PANEL_TRUSTED_PROXIES", "10.0.0.0/8")
    assert _logged_ip_of_a_denied_call("10.0.0.2", f"{SPOOFED}, {CLIENT}") == CLIENT
    assert _logged_ip_of_a_denied_call("203.0.113.5", f"{SPOOFED}, {CLIENT}") == "203.0.113.5"
