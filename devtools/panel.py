"""Start a real panel (`reflex run --env prod --single-port`) on a fresh database, in a subprocess.

Used by the e2e tests (tests/e2e/conftest.py) and by benchmarks that need a
browser in front of a real panel:

    with running_panel(workdir, "admin password", {"SAAS_PANEL_METRICS_INTERVAL": "1"}) as panel:
        ...  # panel.base_url, panel.log_path, panel.container_prefix

On entry: `python -m saas_panel bootstrap` on a new SQLite file in `workdir`,
then reflex in its own process group, building its frontend in a directory of its own
(`workdir`/web, see `own_web_dir`), on an internal port, with the edge (Caddy,
`python -m saas_panel caddyfile`) in front of it on the public port, then wait
until /ping and /login/ answer 200 through the edge. On exit (also on an exception or Ctrl-C): SIGTERM to the process
group (SIGKILL after a grace period), then every container whose name starts
with the panel's per-run container prefix is force-removed.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from saas_panel.config import PROJECT_ROOT, get_settings
from saas_panel.errors import EngineError
from saas_panel.runtime.loop_volumes import LoopVolumes

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Each container the engine starts adds a host-side interface, which gets an IPv6 link-local
# address; Chromium takes that for a network change and aborts its in-flight requests
# (net::ERR_NETWORK_CHANGED), so a page whose script load was aborted never comes to life.
# New interfaces without link-local addresses: 224 of 2,200 fetches failed under container
# churn before, none after.
LINK_LOCAL_SETTING = Path("/proc/sys/net/ipv6/conf/default/addr_gen_mode")
STARTUP_TIMEOUT_S = 420
STOP_GRACE_S = 20
READY_PATHS = ("/ping", "/login/")
SHARED_WEB_DIR = PROJECT_ROOT / ".web"  # Reflex's default: where `make run` and a first panel install the frontend


def _install_shared_frontend() -> None:
    """Install the frontend's packages in the shared directory once (a new checkout has none),
    so that every panel after the first seeds from it instead of installing anew."""
    if (SHARED_WEB_DIR / "node_modules").is_dir():
        return
    import fcntl

    with open(PROJECT_ROOT / ".web.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another test process may be installing it right now
        if (SHARED_WEB_DIR / "node_modules").is_dir():
            return
        reflex = Path(sys.executable).parent / "reflex"
        result = subprocess.run([str(reflex), "export", "--frontend-only", "--no-zip", "--env", "prod"], cwd=PROJECT_ROOT,
                                env={**os.environ, "REFLEX_USE_SYSTEM_BUN": "1"}, capture_output=True, text=True)
        if result.returncode != 0:
            raise PanelStartError(f"installing the frontend failed ({result.returncode}):\n{result.stdout[-3000:]}{result.stderr[-3000:]}")


def own_web_dir(workdir: Path) -> Path:
    """A frontend build directory for one panel (REFLEX_WEB_WORKDIR).

    A production build bakes the panel's public URL (its edge's port) into the pages. Panels
    sharing one build directory overwrite each other's: a panel started while another runs
    (a test's own panel beside the session's) leaves the other's pages opening their socket
    on its port, so they never get an event, and once it stops, on nothing. Each panel
    builds in `workdir`/web instead, seeded from the shared directory when it has the
    packages installed (hard links: no download, no copy of them), else installed anew.
    """
    web = workdir / "web"
    if web.exists():
        return web
    _install_shared_frontend()
    web.mkdir(parents=True)
    for entry in SHARED_WEB_DIR.iterdir():
        if entry.name == "build":  # the other panel's pages
            continue
        link = ["-l"] if entry.name == "node_modules" else []  # read only by the build: shared safely
        subprocess.run(["cp", "-a", *link, str(entry), str(web / entry.name)], check=True)
    return web


def launch_chromium(playwright):
    """Chromium for browser tests and benchmarks, on a host whose new interfaces do not disturb it."""
    try:
        if LINK_LOCAL_SETTING.read_text().strip() == "0":
            LINK_LOCAL_SETTING.write_text("1")
    except OSError as exc:  # not root, or no IPv6: pages may see ERR_NETWORK_CHANGED while containers start
        print(f"note: could not stop link-local addresses on new interfaces ({exc})", file=sys.stderr)
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


class PanelStartError(RuntimeError):
    pass


class PanelStopError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def new_container_prefix(tag: str = "e2e") -> str:
    return f"{tag}{uuid.uuid4().hex[:8]}-"


@dataclass
class PanelProcess:
    """A panel running in a subprocess; `stop()` ends it and removes its containers."""

    base_url: str
    log_path: Path
    container_prefix: str
    workdir: Path
    port: int
    env: dict[str, str]
    process: subprocess.Popen | None = field(default=None, repr=False)
    edge: subprocess.Popen | None = field(default=None, repr=False)  # Caddy in front of the panel and the apps

    @property
    def db_url(self) -> str:
        return self.env["REFLEX_DB_URL"]

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def wait_ready(self, timeout: float = STARTUP_TIMEOUT_S, urls: Sequence[str] = ()) -> None:
        """Until each of `urls` (default: READY_PATHS on base_url) answers 200."""
        deadline = time.monotonic() + timeout
        for url in urls or [f"{self.base_url}{path}" for path in READY_PATHS]:
            while True:
                if self.process is not None and self.process.poll() is not None:
                    raise PanelStartError(f"panel exited early:\n{self.log_tail()}")
                try:
                    with urllib.request.urlopen(url, timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() >= deadline:
                    raise PanelStartError(f"panel did not answer {url} in {timeout:.0f}s:\n{self.log_tail()}")
                time.sleep(1)

    def terminate(self, timeout: float) -> float:
        """SIGTERM to the panel's process group, as a service manager stops it; the seconds until
        every process of it exited (PanelStopError past `timeout`). The edge and the containers stay."""
        process = self.process
        started = time.monotonic()
        os.killpg(process.pid, signal.SIGTERM)
        while _group_alive(process):
            if time.monotonic() - started > timeout:
                raise PanelStopError(f"the panel was still running {timeout:.0f}s after SIGTERM:\n{self.log_tail()}")
            time.sleep(0.05)
        return time.monotonic() - started

    def stop_edge(self) -> None:
        """End the edge alone (a panel started again on the same workdir brings its own)."""
        if self.edge is not None:
            _end_process_group(self.edge)
            self.edge = None

    def stop(self) -> None:
        """Idempotent: end the process group, then remove the panel's containers."""
        for process in (self.edge, self.process):
            if process is not None:
                _end_process_group(process)
        self.edge = self.process = None
        storage_dir = self.env.get("SAAS_PANEL_STORAGE_DIR")
        remove_containers(self.container_prefix, Path(storage_dir) if storage_dir else None)


def _group_alive(process: subprocess.Popen) -> bool:
    """Whether any process of `process`'s group (it leads one) is still running."""
    process.poll()  # reaps the leader, which would otherwise stay in the group as a zombie
    try:
        os.killpg(process.pid, 0)
    except ProcessLookupError:
        return False
    return True


def _end_process_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        process.wait(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        pass
    try:  # children (the frontend, workers) may outlive the leader: make sure the group is gone
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


def remove_volumes(client, prefix: str, storage_dir: Path | None = None) -> None:
    """Remove the users' data volumes named `prefix*` (their containers must be gone) and their loop
    file systems in `storage_dir` (default: the setting's), so that no loop device is left attached."""
    import docker

    for volume in client.volumes.list(filters={"name": prefix}):
        if volume.name.startswith(prefix):  # the name filter matches substrings
            try:
                volume.remove(force=True)
            except docker.errors.NotFound:
                pass
    loops = LoopVolumes(storage_dir or get_settings().storage_dir)
    for name in loops.names(prefix):
        try:
            loops.remove(name)
        except EngineError as exc:
            print(f"could not remove the file system of {name}: {exc}", file=sys.stderr)


def remove_containers(prefix: str, storage_dir: Path | None = None) -> int:
    """Force-remove every container whose name starts with `prefix`, then the users' data volumes
    (named with the same prefix) and their file systems in `storage_dir`; returns how many containers."""
    import docker

    removed = 0
    try:
        client = docker.from_env(timeout=30)
        try:
            for container in client.containers.list(all=True, filters={"name": prefix}, sparse=True):
                name = (container.attrs.get("Names") or ["/"])[0].lstrip("/")
                if not name.startswith(prefix):  # the name filter matches substrings
                    continue
                try:
                    container.remove(force=True)
                    removed += 1
                except docker.errors.NotFound:
                    pass
            remove_volumes(client, prefix, storage_dir)
        finally:
            client.close()
    except docker.errors.DockerException as exc:
        print(f"could not clean up containers {prefix}*: {exc}", file=sys.stderr)
    return removed


def start_panel(
    workdir: Path,
    admin_password: str,
    env_overrides: Mapping[str, str] | None = None,
    *,
    container_prefix: str | None = None,
    startup_timeout: float = STARTUP_TIMEOUT_S,
) -> PanelProcess:
    """Bootstrap a fresh DB in `workdir` and start reflex; returns once the panel answers.

    The caller owns the result and must call `stop()` (prefer `running_panel`).
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    prefix = container_prefix or new_container_prefix()
    port = free_port()  # the edge's: the one address browsers use
    env = {
        **os.environ,
        "REFLEX_DB_URL": f"sqlite:///{workdir / 'panel.db'}",
        "SAAS_PANEL_ADMIN_PASSWORD": admin_password,
        "PORT": str(port),
        "SAAS_PANEL_BACKEND_PORT": str(free_port()),
        "REFLEX_USE_SYSTEM_BUN": "1",
        "SAAS_PANEL_CONTAINER_PREFIX": prefix,
        "SAAS_PANEL_STORAGE_DIR": str(workdir / "volumes"),  # removed with the panel's volumes by stop()
        "REFLEX_WEB_WORKDIR": str(own_web_dir(workdir)),
        **(env_overrides or {}),
    }
    # Captured, not printed: benchmarks print JSON lines on stdout.
    bootstrap = subprocess.run(
        [sys.executable, "-m", "saas_panel", "bootstrap"], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    if bootstrap.returncode != 0:
        raise PanelStartError(f"bootstrap failed ({bootstrap.returncode}):\n{bootstrap.stdout}{bootstrap.stderr}")
    log_path = workdir / "panel.log"
    panel = PanelProcess(
        base_url=f"http://localhost:{port}",  # the public URL: the app hand-off returns to this origin
        log_path=log_path,
        container_prefix=prefix,
        workdir=workdir,
        port=port,
        env=env,
    )
    reflex = Path(sys.executable).parent / "reflex"
    caddyfile = subprocess.run(
        [sys.executable, "-m", "saas_panel", "caddyfile"], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    ).stdout
    (workdir / "Caddyfile").write_text(caddyfile)
    with log_path.open("w") as out:
        panel.process = subprocess.Popen(
            [str(reflex), "run", "--env", "prod", "--single-port"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    with (workdir / "edge.log").open("w") as out:
        panel.edge = subprocess.Popen(
            ["caddy", "run", "--config", str(workdir / "Caddyfile"), "--adapter", "caddyfile"],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        panel.wait_ready(startup_timeout)
    except BaseException:
        panel.stop()
        raise
    return panel


@contextmanager
def running_panel(
    workdir: Path,
    admin_password: str,
    env_overrides: Mapping[str, str] | None = None,
    **kwargs,
) -> Iterator[PanelProcess]:
    """`start_panel` for the duration of a `with` block; stopped and cleaned up on exit."""
    panel = start_panel(workdir, admin_password, env_overrides, **kwargs)
    try:
        yield panel
    finally:
        _sigint_ignored(panel.stop)


def _sigint_ignored(fn) -> None:
    """Run cleanup to the end even if Ctrl-C is pressed again (main thread only)."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        fn()
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        fn()
    finally:
        signal.signal(signal.SIGINT, previous)
