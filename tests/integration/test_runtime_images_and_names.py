"""The engine calls a plan change makes besides create: is an image there, rename a container."""

from __future__ import annotations

import pytest

from saas_panel.config import get_settings
from saas_panel.errors import ContainerExists
from saas_panel.runtime.docker_runtime import DockerRuntime
from saas_panel.services.provisioning import container_spec


def test_an_image_is_looked_up_never_pulled(docker_client):
    runtime = DockerRuntime(client=docker_client)
    assert runtime.image_exists(get_settings().user_image)
    assert not runtime.image_exists("saas-panel/no-such-image:never")


def test_a_renamed_container_answers_to_its_new_name_only(engine, docker_client):
    runtime = DockerRuntime(client=docker_client)
    image = get_settings().user_image
    first = runtime.create(container_spec(f"{engine}first", "alice", image, 128, 0.5))
    runtime.create(container_spec(f"{engine}taken", "alice", image, 128, 0.5))

    renamed = runtime.rename(first.id, f"{engine}renamed")
    assert (renamed.id, renamed.name, renamed.running) == (first.id, f"{engine}renamed", True)
    assert runtime.inspect(f"{engine}renamed").id == first.id
    with pytest.raises(ContainerExists):
        runtime.rename(first.id, f"{engine}taken")
