"""A fleet of N running user containers for benchmarks, removed afterwards whatever happens.

    with fleet(100) as f:
        f.names, f.ids, f.prefix

Each container is a managed user container created by `DockerRuntime.create`
(so with its labels and hardened options, and the default limits), on a
per-fleet bridge network with inter-container traffic off (as the runtime's
network).
Created and started from 8 worker threads. Names start with a unique
per-fleet prefix; in `finally` every container with that prefix (not only the
ones whose creation returned) and the network are force-removed, with
Ctrl-C ignored until cleanup is done.
"""

from __future__ import annotations

import secrets
import signal
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

WORKERS = 8


@dataclass
class Fleet:
    prefix: str
    network: str
    image: str
    names: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    create_s: float = 0.0

    def __len__(self) -> int:
        return len(self.names)

    def add_to_database(self) -> None:
        """A user and a running container row per fleet container, as the panel would have them."""
        from saas_panel.db import session_scope
        from saas_panel.models import Container, ContainerState, User

        with session_scope() as session:
            users = [User(username=name[-32:], host_label=name[-32:], email=f"{name}@bench.example.com", password_hash="x") for name in self.names]
            session.add_all(users)
            session.flush()
            session.add_all(
                Container(user_id=user.id, name=name, engine_id=cid, image=self.image, state=ContainerState.RUNNING.value)
                for user, name, cid in zip(users, self.names, self.ids)
            )


def _client(pool: int = WORKERS + 4):
    import docker

    return docker.from_env(timeout=120, max_pool_size=pool)


def _run_one(runtime, name: str, network: str) -> str:
    from saas_panel.config import get_settings
    from saas_panel.runtime.base import ContainerSpec

    settings = get_settings()
    spec = ContainerSpec(
        name=name,
        image=settings.user_image,
        owner=name,
        app_port=settings.user_app_port,
        bind_host=settings.bind_host,
        network=network,
        mem_limit_mb=settings.default_mem_limit_mb,
        cpu_limit=settings.default_cpu_limit,
        pids_limit=settings.pids_limit,
        env={"SAAS_USERNAME": name},
    )
    return runtime.create(spec).id


def remove_prefix(client, prefix: str, network: str | None = None) -> int:
    """Force-remove every container named `prefix*`, their data volumes (and `network`); returns the container count."""
    from docker.errors import APIError, NotFound

    from devtools.panel import remove_volumes

    names = [
        name
        for summary in client.api.containers(all=True, filters={"name": prefix})
        for name in [(summary.get("Names") or ["/"])[0].lstrip("/")]
        if name.startswith(prefix)
    ]

    def remove(name: str) -> None:
        try:
            client.api.remove_container(name, force=True)
        except NotFound:
            pass
        except APIError as exc:
            if not (exc.status_code == 409 and "in progress" in str(exc.explanation or "")):
                print(f"[bench] could not remove {name}: {exc}", file=sys.stderr)

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        list(pool.map(remove, names))
    remove_volumes(client, prefix)
    if network:
        for net in client.networks.list(names=[network]):
            if net.name == network:
                try:
                    net.remove()
                except (APIError, NotFound) as exc:
                    print(f"[bench] could not remove network {network}: {exc}", file=sys.stderr)
    return len(names)


@contextmanager
def sigint_ignored() -> Iterator[None]:
    """Let cleanup finish even if Ctrl-C is pressed again."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def fleet(count: int, tag: str = "fleet") -> Iterator[Fleet]:
    """`count` running managed containers for the duration of the block."""
    from saas_panel.config import get_settings
    from saas_panel.runtime.docker_runtime import DockerRuntime

    run_tag = secrets.token_hex(3)
    prefix = f"bench-{tag}-{run_tag}-"
    result = Fleet(prefix=prefix, network=f"{prefix}net", image=get_settings().user_image)
    client = _client()
    runtime = DockerRuntime(client)
    stop = threading.Event()
    pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="fleet")
    try:
        client.networks.create(
            result.network,
            driver="bridge",
            options={"com.docker.network.bridge.enable_icc": "false"},
            labels={"saas-panel.bench": run_tag},
        )
        names = [f"{prefix}{i:03d}" for i in range(count)]

        def job(name: str) -> str | None:
            if stop.is_set():
                return None
            return _run_one(runtime, name, result.network)

        start = time.perf_counter()
        ids = list(pool.map(job, names))
        result.create_s = time.perf_counter() - start
        result.names, result.ids = names, [i for i in ids if i]
        yield result
    finally:
        stop.set()
        with sigint_ignored():
            # Let in-flight creations finish first, so none lands after the removal.
            pool.shutdown(wait=True, cancel_futures=True)
            remove_prefix(client, prefix, result.network)
            client.close()
