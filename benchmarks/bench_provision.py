"""Provisioning: our `provision()` until the container answers, against the raw docker SDK.

Each side is timed from the call until the new container answers HTTP 200 on
GET /health at 127.0.0.1:<host_port>. Our side is
`saas_panel.services.provisioning.provision` (DB row, engine create/start,
DB update, activity row). The raw side is `docker.containers.run(..., detach=True)`
of the same image with the options `DockerRuntime.create` passes (the same
`create_options`: every hardening, limits, port 8080 published on 127.0.0.1
with an engine-chosen port, same network), then a reload to read the
published port. Both sides measured in the same run, on the same network.

Lines:
- `"n": 1`: one container at a time, REPEAT samples per side (interleaved
  ours/raw), median seconds per container.
- `"n": 50`: wall-clock seconds for the whole batch of 50 containers, from
  the first call until the last one answers (NOT a per-container latency).
  Our side: 50 concurrent `provision()` calls from a pool of 50 threads (the
  service caps engine concurrency itself). Raw side: 8 worker threads doing
  run + reload, each container then polled for readiness outside the workers
  (as ours polls after `provision()` returned and released its slot).
  The batch is run BATCH_ROUNDS times per side, order alternating, all
  containers removed between batches; the median batch time is reported
  (one batch on a 2-CPU host is noisy). errors and dup_ports are summed
  over the rounds (dup_ports is computed per batch).

`errors` counts our failures (an exception, no published port, or no 200
within READY_TIMEOUT_S); `raw_errors` the same for the raw side (a non-zero
value makes raw_s meaningless). `dup_ports` counts our containers whose host
port is also reported for another of our containers alive at the same time.

Setup (not timed): a scratch DB with the users (bcrypt cost 4), a per-run
container prefix `bench-<random>-` and a per-run network, one warm-up
container per side. Every container with the prefix, and the network, is
force-removed in a `finally`, also on Ctrl-C.
"""

from __future__ import annotations

import http.client
import os
import secrets
import statistics
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait

from benchmarks.common import environment, scratch_database
from benchmarks.fleet import remove_prefix, sigint_ignored

REPEAT = 5
BATCH = 50
BATCH_ROUNDS = 3
OUR_THREADS = 50
RAW_THREADS = 8
READY_TIMEOUT_S = 30.0
POLL_INTERVAL_S = 0.01
PROBE_TIMEOUT_S = 0.5
BENCH_LABEL = "saas-panel.bench"
PASSWORD = "bench password 1234"

class BenchError(Exception):
    pass


def wait_ready(port: int | None, stop: threading.Event, timeout: float = READY_TIMEOUT_S, host: str = "127.0.0.1") -> None:
    """Poll GET /health on `host`:`port` every ~10 ms until it answers 200."""
    if not port:
        raise BenchError("no published port")
    deadline = time.monotonic() + timeout
    while not stop.is_set():
        conn = http.client.HTTPConnection(host, port, timeout=PROBE_TIMEOUT_S)
        try:
            conn.request("GET", "/health")
            response = conn.getresponse()
            response.read()
            if response.status == 200:
                return
        except (OSError, http.client.HTTPException):
            pass
        finally:
            conn.close()
        if time.monotonic() >= deadline:
            raise BenchError(f"{host}:{port}: no 200 on /health within {timeout:.0f} s")
        time.sleep(POLL_INTERVAL_S)
    raise BenchError("stopped")


def _bench_env(prefix: str, network: str):
    # Every account is registered from this process: the signup throttles have tests of their own.
    return environment({
        "SAAS_PANEL_CONTAINER_PREFIX": prefix,
        "SAAS_PANEL_USER_NETWORK": network,
        "SAAS_PANEL_BCRYPT_ROUNDS": "4",
        "SAAS_PANEL_BIND_HOST": "127.0.0.1",  # both sides are polled on a loopback host port
        "SAAS_PANEL_SIGNUP_IP_LIMIT": "100000",
        "SAAS_PANEL_SIGNUP_GLOBAL_LIMIT": "100000",
    })


class Bench:
    name = "provision"

    def __init__(self) -> None:
        import docker

        from saas_panel.config import get_settings

        tag = secrets.token_hex(3)
        self.tag = tag
        self.prefix = f"bench-{tag}-"
        self.network = f"bench-{tag}-net"
        self.stop = threading.Event()
        self.client = docker.from_env(timeout=60, max_pool_size=RAW_THREADS + 4)
        self._raw_seq = 0
        self._user_seq = 0
        self._lock = threading.Lock()
        self._settings = get_settings

    # --- setup ---

    def make_users(self, count: int) -> list[str]:
        from saas_panel.services import auth

        names = []
        for _ in range(count):
            name = f"b{self._user_seq:03d}"
            self._user_seq += 1
            auth.register(name, f"{name}@bench.example.com", PASSWORD)
            names.append(name)
        return names

    # --- one container, each side ---

    def ours(self, username: str) -> int | None:
        """Provision and wait until ready; returns the host port."""
        from saas_panel.services import provisioning

        view = provisioning.provision(username, actor=username)  # as at signup: the user provisions their own
        wait_ready(view.host_port, self.stop)
        return view.host_port

    def raw_create(self) -> int | None:
        """`containers.run` with our create's options, then reload for the port."""
        from saas_panel.runtime.docker_runtime import create_options
        from saas_panel.services.provisioning import container_spec

        settings = self._settings()
        with self._lock:
            name = f"{self.prefix}raw-{self._raw_seq:03d}"
            self._raw_seq += 1
        # The settings' network is this run's network (see _bench_env).
        spec = container_spec(name, name, settings.user_image, settings.default_mem_limit_mb, settings.default_cpu_limit)
        # Not the panel's labels: its collector must not count these containers as orphans.
        options = {**create_options(spec), "labels": {BENCH_LABEL: self.tag}}
        container = self.client.containers.run(spec.image, detach=True, **options)
        container.reload()
        for bindings in (container.attrs["NetworkSettings"].get("Ports") or {}).values():
            for binding in bindings or []:
                if binding.get("HostPort"):
                    return int(binding["HostPort"])
        return None

    def raw_ready(self, created: int | None) -> int | None:
        """Wait until what `raw_create` made answers."""
        wait_ready(created, self.stop)
        return created

    def raw(self) -> int | None:
        return self.raw_ready(self.raw_create())

    def clear(self) -> None:
        """Remove this run's containers (between phases)."""
        remove_prefix(self.client, self.prefix)

    # --- phases ---

    def single(self, users: list[str]) -> dict:
        ours_samples, raw_samples, ports = [], [], []
        errors = raw_errors = 0
        for username in users:
            start = time.perf_counter()
            try:
                ports.append(self.ours(username))
                ours_samples.append(time.perf_counter() - start)
            except Exception as exc:  # noqa: BLE001 - counted and reported
                errors += 1
                print(f"[bench {self.name}] ours {username}: {exc!r}", file=sys.stderr)
            start = time.perf_counter()
            try:
                self.raw()
                raw_samples.append(time.perf_counter() - start)
            except Exception as exc:  # noqa: BLE001
                raw_errors += 1
                print(f"[bench {self.name}] raw: {exc!r}", file=sys.stderr)
        if not ours_samples or not raw_samples:
            raise BenchError("n=1: every sample failed on one side")
        return self._line(1, statistics.median(ours_samples), statistics.median(raw_samples), errors, raw_errors, ports)

    def _run_batch(self, pool: ThreadPoolExecutor, jobs: list[Callable[[], int | None]]) -> tuple[float, list[Future]]:
        start = time.perf_counter()
        futures = [pool.submit(job) for job in jobs]
        wait(futures)
        return time.perf_counter() - start, futures

    def batch_ours(self, users: list[str]) -> tuple[float, int, list[int | None]]:
        pool = ThreadPoolExecutor(max_workers=OUR_THREADS, thread_name_prefix="bench-ours")
        try:
            elapsed, futures = self._run_batch(pool, [lambda u=u: self.ours(u) for u in users])
        except BaseException:
            self.stop.set()  # abort readiness polls so shutdown returns quickly
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        errors, ports = 0, []
        for future in futures:
            if future.exception() is not None:
                errors += 1
                print(f"[bench {self.name}] ours: {future.exception()!r}", file=sys.stderr)
            else:
                ports.append(future.result())
        return elapsed, errors, ports

    def batch_raw(self, count: int) -> tuple[float, int]:
        creators = ThreadPoolExecutor(max_workers=RAW_THREADS, thread_name_prefix="bench-raw")
        pollers = ThreadPoolExecutor(max_workers=count, thread_name_prefix="bench-raw-poll")
        done: list[Future] = []
        lock = threading.Lock()

        def job() -> None:
            created = self.raw_create()
            future = pollers.submit(self.raw_ready, created)
            with lock:
                done.append(future)

        try:
            start = time.perf_counter()
            created = [creators.submit(job) for _ in range(count)]
            wait(created)
            with lock:
                polls = list(done)
            wait(polls)
            elapsed = time.perf_counter() - start
        except BaseException:
            self.stop.set()
            raise
        finally:
            creators.shutdown(wait=True, cancel_futures=True)
            pollers.shutdown(wait=True, cancel_futures=True)
        errors = 0
        for future in created + polls:
            if future.exception() is not None:
                errors += 1
                print(f"[bench {self.name}] raw: {future.exception()!r}", file=sys.stderr)
        return elapsed, errors

    def batches(self, rounds: list[list[str]]) -> dict:
        ours_times, raw_times = [], []
        errors = raw_errors = dup_ports = 0
        for index, users in enumerate(rounds):
            for side in ("ours", "raw") if index % 2 == 0 else ("raw", "ours"):
                if side == "ours":
                    elapsed, failed, ports = self.batch_ours(users)
                    published = [port for port in ports if port]
                    errors += failed
                    dup_ports += len(published) - len(set(published))
                    ours_times.append(elapsed)
                else:
                    elapsed, failed = self.batch_raw(len(users))
                    raw_errors += failed
                    raw_times.append(elapsed)
                self.clear()
        line = self._line(len(rounds[0]), statistics.median(ours_times), statistics.median(raw_times), errors, raw_errors, [])
        line["dup_ports"] = dup_ports
        return line

    @staticmethod
    def _line(n: int, ours: float, raw: float, errors: int, raw_errors: int, ports: list[int | None]) -> dict:
        published = [port for port in ports if port]
        return {
            "bench": "provision",
            "n": n,
            "ours_s": round(ours, 3),
            "raw_s": round(raw, 3),
            "ratio": round(ours / raw, 2),
            "errors": errors,
            "dup_ports": len(published) - len(set(published)),
            "raw_errors": raw_errors,
        }

    def cleanup(self) -> None:
        self.stop.set()
        remove_prefix(self.client, self.prefix, self.network)
        self.stop.clear()


def run():
    bench = Bench()
    results: list[dict] = []
    try:
        with _bench_env(bench.prefix, bench.network), scratch_database():
            from saas_panel.db import get_engine

            try:
                warm_user, *single_users = bench.make_users(1 + REPEAT)
                batch_users = [bench.make_users(BATCH) for _ in range(BATCH_ROUNDS)]
                # Warm-up (not timed): ours creates the network, then one raw container.
                bench.ours(warm_user)
                bench.raw()

                results.append(bench.single(single_users))
                bench.clear()

                results.append(bench.batches(batch_users))
            finally:
                get_engine().dispose()
    finally:
        with sigint_ignored():
            bench.cleanup()
    yield from results
