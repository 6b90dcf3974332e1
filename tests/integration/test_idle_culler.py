"""The idle culler against the real engine: an idle container stops, and says why on its owner's timeline."""

from __future__ import annotations

from datetime import timedelta

from saas_panel.models import utcnow
from saas_panel.services import activity, auth, idle, provisioning, users


def _running(docker_client, engine_prefix: str, username: str) -> bool:
    container = docker_client.containers.get(f"{engine_prefix}{username}")
    return container.attrs["State"]["Running"]


def test_cull_stops_only_the_idle_container(engine, make_user, docker_client, monkeypatch):
    monkeypatch.setenv("SAAS_PANEL_IDLE_STOP_MINUTES", "60")
    monkeypatch.setenv("SAAS_PANEL_BCRYPT_ROUNDS", "4")
    idle._seen.clear()
    for name in ("sleepy", "busy", "pinned"):
        make_user(name, "password one")
        provisioning.provision(name)
    users.ensure_admin("admin password")
    admin = auth.authenticate("admin", "admin password")
    users.set_idle_exempt(admin, users.find_user("pinned").id, True)

    later = utcnow() + timedelta(minutes=61)  # a clock an hour ahead, instead of waiting an hour
    idle.note_activity("busy", later - timedelta(minutes=2))
    idle.flush()

    assert idle.cull(later) == ["sleepy"]
    assert not _running(docker_client, engine, "sleepy")
    assert _running(docker_client, engine, "busy") and _running(docker_client, engine, "pinned")
    assert provisioning.status("sleepy").state == "stopped"

    [stop, *_] = activity.timeline("sleepy")
    assert (stop.actor, stop.action, stop.outcome) == ("system", "idle_stop", "success")
    assert stop.details == "no request through the edge for 61 minutes"
    assert [row.action for row in activity.timeline("sleepy")].count("stop") == 0  # one row per idle stop

    assert idle.cull(later) == []  # a stopped container is not stopped again
