"""Does an image make a working app? It must be on the engine (the panel never pulls) and, started
as a user's container is (hardened, read-only, no data), answer on the app port."""

from __future__ import annotations

import socket
import time
import uuid

from saas_panel.config import get_settings
from saas_panel.errors import DomainError, EngineError, ValidationError
from saas_panel.runtime import ContainerInfo, ContainerRuntime, get_runtime

ANSWER_TIMEOUT_S = 30
POLL_S = 0.2
PROBE_OWNER = "plan-check"  # not a username (too short a label is refused at signup): owns only probes
# Without a route to the container's address (the panel in compose: the engine drops traffic
# between its networks, so a dial gets no reply at all), answering is judged by the container
# staying up this long.
STAYS_UP_S = 3


def _dial(address: str, port: int) -> bool | None:
    """True when something accepts connections at address:port, False when refused (nothing
    listens yet), None when there is no reply at all (no route from here)."""
    try:
        with socket.create_connection((address, port), timeout=1):
            return True
    except ConnectionRefusedError:
        return False
    except OSError:
        return None


def wait_until_answers(runtime: ContainerRuntime, info: ContainerInfo, timeout_s: float = ANSWER_TIMEOUT_S) -> ContainerInfo:
    """Wait until the container accepts connections on the app port; EngineError if it stops,
    restarts or stays silent."""
    port = get_settings().user_app_port
    deadline, up_since, started_at = time.monotonic() + timeout_s, time.monotonic(), info.started_at
    while time.monotonic() < deadline:
        info = runtime.inspect(info.id)
        if info.state != "running" or info.started_at != started_at:  # "restarting": it exited
            raise EngineError(f"The container stopped ({info.state}) before answering on port {port}.")
        answer = _dial(info.address, info.upstream_port or port) if info.address else None
        if answer or (answer is None and time.monotonic() - up_since >= STAYS_UP_S):
            return info
        time.sleep(POLL_S)
    raise EngineError(f"The container did not answer on port {port} within {timeout_s:g} s.")


def check_image(image: str, runtime: ContainerRuntime | None = None) -> None:
    """ValidationError("image", ...) unless `image` is on the engine and answers on the app port."""
    from saas_panel.services.provisioning import container_spec, panel_action  # provisioning depends on plans

    runtime = runtime or get_runtime()
    if not runtime.image_exists(image):
        raise ValidationError("image", f"The image {image} is not on the engine: build or load it there first (the panel never pulls).")
    settings = get_settings()
    spec = container_spec(f"{settings.container_prefix}check-{uuid.uuid4().hex[:12]}", PROBE_OWNER, image,
                          settings.default_mem_limit_mb, settings.default_cpu_limit)
    info = None
    with panel_action(spec.name):  # the collector leaves the probe alone
        try:
            info = runtime.create(spec)
            wait_until_answers(runtime, info)
        except DomainError as exc:
            raise ValidationError("image", f"The image {image} does not give a working app: {exc}") from None
        finally:
            try:
                runtime.remove(info.id if info else spec.name)
            except DomainError:
                pass


def engine_images(runtime: ContainerRuntime | None = None) -> list[str]:
    """The images on the engine by tag (name:tag), to choose a plan's image from."""
    return (runtime or get_runtime()).list_images()
