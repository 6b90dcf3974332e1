"""A user downloads their /data from the dashboard: the browser gets the tar the engine streams."""

from __future__ import annotations

import io
import subprocess
import tarfile
import uuid

from playwright.sync_api import expect
from sqlmodel import select

from saas_panel.db import session_scope
from saas_panel.models import Container, User
from tests.e2e.helpers import reload_when_ready, sign_up_until_running


def _container_of(username: str) -> str:
    with session_scope() as session:
        return session.exec(select(Container.name).join(User, User.id == Container.user_id).where(User.username == username)).one()


def test_download_my_files_gives_the_tar_of_data(page, panel_process, monkeypatch):
    monkeypatch.setenv("REFLEX_DB_URL", panel_process.db_url)
    name = f"x{uuid.uuid4().hex[:10]}"
    sign_up_until_running(page, name)
    container = _container_of(name)
    subprocess.run(["docker", "exec", "-u", "65534", container, "sh", "-c", "mkdir -p /data/notes && echo kept > /data/notes/todo.txt"], check=True)

    with page.expect_download() as download_info:
        page.click("#download-data")
    download = download_info.value
    assert download.suggested_filename == f"{name}-data.tar"
    with tarfile.open(fileobj=io.BytesIO(open(download.path(), "rb").read())) as archive:
        assert archive.extractfile("data/notes/todo.txt").read() == b"kept\n"
    reload_when_ready(page)
    expect(page.locator("#activity-timeline")).to_contain_text("export data")
