"""The settings object is built once per environment, and a changed environment is seen at once."""

from __future__ import annotations

from saas_panel.config import get_settings


def test_a_changed_variable_is_seen_by_the_next_call(monkeypatch):
    monkeypatch.setenv("SAAS_PANEL_IDLE_STOP_MINUTES", "5")
    first = get_settings()
    assert first.idle_stop_minutes == 5
    assert get_settings() is first  # unchanged environment: the same object
    monkeypatch.setenv("SAAS_PANEL_IDLE_STOP_MINUTES", "7")
    assert get_settings().idle_stop_minutes == 7
    monkeypatch.delenv("SAAS_PANEL_IDLE_STOP_MINUTES")
    assert get_settings().idle_stop_minutes == 60
