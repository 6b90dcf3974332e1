"""The container engine behind a small interface. Only this package imports `docker`."""

from saas_panel.runtime.base import ContainerInfo, ContainerRuntime, ContainerSpec, ContainerStats


def get_runtime() -> ContainerRuntime:
    from saas_panel.runtime.docker_runtime import DockerRuntime

    return DockerRuntime.shared()


__all__ = ["ContainerInfo", "ContainerRuntime", "ContainerSpec", "ContainerStats", "get_runtime"]
