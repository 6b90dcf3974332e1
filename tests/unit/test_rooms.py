"""Room tokens: unguessable, valid for Reflex whatever the name, and the only way rooms are joined."""

from __future__ import annotations

import os
import re
import stat
from concurrent.futures import ThreadPoolExecutor

import pytest

from saas_panel.config import PROJECT_ROOT
from saas_panel.services import server_secret
from saas_panel.state.rooms import PLATFORM, room_token, user_room

NAMES = ["a_b", "élodie", "名字", "x" * 32, "plain", "a-b"]


@pytest.fixture
def secret_file(tmp_path, monkeypatch):
    path = tmp_path / "secret_key"
    monkeypatch.setenv("SAAS_PANEL_SECRET_FILE", str(path))
    monkeypatch.delenv("SAAS_PANEL_SECRET_KEY", raising=False)
    server_secret._secret_for.cache_clear()
    yield path
    server_secret._secret_for.cache_clear()


def test_room_tokens_are_valid_link_tokens_for_any_name(secret_file):
    tokens = [room_token(user_room(name)) for name in NAMES] + [room_token(PLATFORM)]
    assert all(re.fullmatch(r"room[0-9a-f]{64}", token) for token in tokens)  # no '_': Reflex refuses it
    assert len(set(tokens)) == len(tokens)
    assert room_token(user_room("a_b")) == room_token(user_room("a_b"))  # stable: every worker agrees


def test_room_tokens_depend_on_the_server_secret(secret_file, monkeypatch):
    before = room_token(PLATFORM)
    assert PLATFORM not in before and "live" not in before
    monkeypatch.setenv("SAAS_PANEL_SECRET_KEY", "another deployment's secret, 32+ characters long")
    assert room_token(PLATFORM) != before


def test_the_secret_is_made_once_private_and_shared_by_racing_workers(secret_file):
    with ThreadPoolExecutor(max_workers=8) as pool:
        secrets = set(pool.map(lambda _: server_secret._read(secret_file), range(16)))
    assert len(secrets) == 1 and len(secrets.pop()) >= 64
    assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600
    assert [p.name for p in secret_file.parent.iterdir()] == ["secret_key"]  # no staging files left


def test_rooms_are_linked_only_through_enter_room():
    """Every room the app has or will have goes through the HMAC: nothing else calls _link_to."""
    offenders = [
        str(path.relative_to(PROJECT_ROOT))
        for path in (PROJECT_ROOT / "saas_panel").rglob("*.py")
        if "_link_to(" in path.read_text() and path.name != "rooms.py"
    ]
    assert offenders == []
