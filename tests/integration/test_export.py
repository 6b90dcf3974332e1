"""Export: a user's /data downloaded as a tar archive through the panel, against the real Docker engine."""

from __future__ import annotations

import io
import tarfile

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from saas_panel.api.app import create_api, outermost
from saas_panel.db import session_scope
from saas_panel.errors import NotFound, PermissionDenied
from saas_panel.models import ActivityLog
from saas_panel.runtime.base import OWNER_LABEL
from saas_panel.services import auth, export, provisioning, users

# Paths under /data and their contents: a nested directory, a non-ASCII name, and a file larger
# than one chunk of the engine's stream (written by `yes`: an exec's arguments are bounded).
FILES = {
    "note.txt": b"kept\n",
    "nested/deeper/état – ünïcode.txt": "grüße\n".encode(),
}
BIG_FILE, BIG_SIZE = "nested/big.txt", 600_000
EXPECTED = {**FILES, BIG_FILE: (b"0123456789abcdef\n" * (BIG_SIZE // 17 + 1))[:BIG_SIZE]}


@pytest.fixture
def admin(engine, monkeypatch):
    monkeypatch.setenv("SAAS_PANEL_BCRYPT_ROUNDS", "4")
    users.ensure_admin("admin password")
    return auth.authenticate("admin", "admin password")


@pytest.fixture
def client():
    return TestClient(outermost(create_api()))


def _fill_data(docker_client, username: str) -> None:
    """Write the EXPECTED files into the user's /data as the app's own user, the way their app would."""
    [container] = docker_client.containers.list(all=True, filters={"label": f"{OWNER_LABEL}={username}"})
    writes = [('printf %s "$2" > "$1"', path, content.decode()) for path, content in FILES.items()]
    writes.append((f'yes 0123456789abcdef | head -c {BIG_SIZE} > "$1"', BIG_FILE, ""))
    for script, path, content in writes:
        command = ["sh", "-c", f'cd /data && mkdir -p "$(dirname "$1")" && {script}', "sh", path, content]
        result = container.exec_run(command, user="65534")
        assert result.exit_code == 0, result.output


def _download(client: TestClient, ticket: str) -> tuple[int, dict, bytes]:
    with client.stream("GET", export.export_path(ticket)) as response:
        return response.status_code, dict(response.headers), b"".join(response.iter_bytes())


def _files_in(archive_bytes: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(archive_bytes), mode="r|") as archive:
        return {
            member.name.removeprefix("data/"): archive.extractfile(member).read()
            for member in archive
            if member.isfile()
        }


def _exporters_of(target: str) -> list[str]:
    with session_scope() as session:
        return list(session.exec(select(ActivityLog.actor).where(ActivityLog.action == "export_data", ActivityLog.target == target)).all())


def test_export_round_trips(engine, make_user, docker_client, client):
    alice = make_user("alice")
    provisioning.provision("alice")
    _fill_data(docker_client, "alice")
    provisioning.control("alice", "stop", actor="alice")  # a stopped app's files download all the same

    status, headers, body = _download(client, export.issue_export_ticket(alice, "alice"))

    assert status == 200, body[:300]
    assert headers["content-type"] == "application/x-tar"
    assert headers["content-disposition"] == 'attachment; filename="alice-data.tar"'
    assert headers["cache-control"] == "no-store" and headers["referrer-policy"] == "no-referrer"
    assert _files_in(body) == EXPECTED
    assert _exporters_of("alice") == ["alice"]


def test_a_ticket_works_once_and_a_forged_one_never(engine, make_user, client):
    alice = make_user("alice")
    provisioning.provision("alice")
    ticket = export.issue_export_ticket(alice, "alice")

    assert _download(client, ticket)[0] == 200
    status, headers, body = _download(client, ticket)
    assert status == 403 and b"already used or has expired" in body
    assert headers["content-type"].startswith("text/html")
    viewer, owner, expires, nonce_and_mac = ticket.split(".", 3)
    forged = ".".join((viewer, owner, str(int(expires) + 3600), nonce_and_mac))
    assert _download(client, forged)[0] == 403
    assert _download(client, "")[0] == 403
    assert _exporters_of("alice") == ["alice"]


def test_only_the_owner_or_an_admin_gets_the_files_and_admins_are_logged(engine, make_user, admin, client):
    make_user("alice")
    bob = make_user("bob")
    provisioning.provision("alice")

    with pytest.raises(PermissionDenied):
        export.issue_export_ticket(bob, "alice")
    status, _, body = _download(client, export.issue_export_ticket(admin, "alice"))

    assert status == 200 and _files_in(body) == {}  # an empty /data is still an archive
    assert _exporters_of("alice") == ["admin"]


def test_without_a_container_the_user_is_told_to_start_their_app(engine, make_user, client):
    bob = make_user("bob")
    with pytest.raises(NotFound, match="Start your app once"):
        export.open_export(export.issue_export_ticket(bob, "bob"))
    assert _exporters_of("bob") == []
