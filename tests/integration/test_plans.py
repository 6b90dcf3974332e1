"""Moving a user between plans on the real engine: the files in /data stay, a plan whose image
does not start changes nothing, and no probe or half-made container is left."""

from __future__ import annotations

import pytest
from sqlmodel import select

from saas_panel.config import get_settings
from saas_panel.db import session_scope
from saas_panel.errors import EngineError, ValidationError
from saas_panel.models import Plan, User
from saas_panel.services import auth, image_check, plan_change, plans, provisioning, users
from tests.integration.test_provisioning import wait_http_ok
from tests.integration.test_quota import _data_kib, loops  # noqa: F401 - `loops` is a fixture
from tests.integration.test_storage import NOTE, _run, _write_note

BASE_IMAGE = "saas-panel/python-base:bookworm"  # scripts/lib.sh: on the engine, with no app (and no command) in it


@pytest.fixture
def admin(engine, monkeypatch, tmp_path) -> auth.CurrentUser:
    monkeypatch.setenv("SAAS_PANEL_BCRYPT_ROUNDS", "4")
    monkeypatch.setenv("SAAS_PANEL_STORAGE_DIR", str(tmp_path / "volumes"))
    users.ensure_admin("admin password")
    plans.ensure_default()
    return auth.authenticate("admin", "admin password")


@pytest.fixture
def alice(admin, make_user):
    """alice with a running app; her volume goes at the end (with `loop` storage, its device too)."""
    user = make_user("alice")
    provisioning.provision("alice")
    yield user
    provisioning.remove_data("alice", actor="system")


def plan(admin: auth.CurrentUser, name: str, **values) -> plans.PlanView:
    settings = get_settings()
    fields = dict(image=settings.user_image, cpu_limit=settings.default_cpu_limit, mem_limit_mb=settings.default_mem_limit_mb,
                  storage_mb=settings.default_storage_mb) | values
    return plans.create_plan(admin, plans.PlanInput(name=name, **fields))


def left_over(docker_client, prefix: str) -> list[str]:
    """Containers of this test besides the users' own: a plan change's `-next`, an image's probe."""
    names = [container.name for container in docker_client.containers.list(all=True, filters={"name": prefix})]
    return [name for name in names if name.endswith(plan_change.NEXT_SUFFIX) or name.startswith(f"{prefix}check-")]


def test_the_files_in_data_survive_a_move_to_a_plan_with_other_limits(engine, admin, alice, docker_client):
    _write_note(docker_client, "alice")
    before = docker_client.containers.get(provisioning.container_name("alice"))
    big = plan(admin, "Big", mem_limit_mb=256, cpu_limit=1.0)

    plan_change.change_plan(admin, alice.id, big.id)

    after = docker_client.containers.get(provisioning.container_name("alice"))
    assert after.id != before.id and after.status == "running"
    assert (after.attrs["HostConfig"]["Memory"], after.attrs["HostConfig"]["NanoCpus"]) == (256 * plans.MB, 10**9)
    assert [mount["Name"] for mount in after.attrs["Mounts"]] == [mount["Name"] for mount in before.attrs["Mounts"]]
    assert _run(docker_client, "alice", f"cat {NOTE}") == "kept by 65534\n"
    assert provisioning.status("alice").engine_id == after.id
    assert left_over(docker_client, engine) == []


def test_a_move_to_a_plan_whose_image_does_not_start_keeps_the_old_app(engine, admin, alice, docker_client):
    broken = plan(admin, "Broken", mem_limit_mb=256)
    with session_scope() as session:
        session.get(Plan, broken.id).image = BASE_IMAGE  # as if its tag now named a build without the app
    before = provisioning.status("alice")

    with pytest.raises(EngineError, match="stays on its old plan"):
        plan_change.change_plan(admin, alice.id, broken.id)

    container = docker_client.containers.get(before.engine_id)
    assert (container.name, container.status) == (before.name, "running")
    assert b"ok" in wait_http_ok(provisioning.status("alice").host_port)
    assert provisioning.status("alice").engine_id == before.engine_id
    with session_scope() as session:
        assert session.get(User, alice.id).plan_id is None
    assert left_over(docker_client, engine) == []


def test_check_image_takes_the_user_image_and_refuses_one_without_an_app(engine, admin, docker_client):
    image_check.check_image(get_settings().user_image)
    with pytest.raises(ValidationError, match=f"The image {BASE_IMAGE} does not give a working app") as refused:
        image_check.check_image(BASE_IMAGE)
    assert refused.value.field == "image"
    with pytest.raises(ValidationError, match="is not on the engine"):
        image_check.check_image("saas-panel/not-built:nope")
    assert left_over(docker_client, engine) == []


def test_a_move_to_a_plan_with_more_storage_gives_the_room_inside_the_app(loops, admin, alice, docker_client):  # noqa: F811
    before_kib = _data_kib(docker_client, provisioning.status("alice").engine_id)
    larger = plan(admin, "Larger", storage_mb=get_settings().default_storage_mb * 2)

    plan_change.change_plan(admin, alice.id, larger.id)

    after_kib = _data_kib(docker_client, provisioning.status("alice").engine_id)
    assert after_kib > 1.8 * before_kib
    with session_scope() as session:
        assert session.exec(select(User.plan_id).where(User.id == alice.id)).one() == larger.id
