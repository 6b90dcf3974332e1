"""Per-user storage: one usage sweep over 100 volumes, and one plan change, each against the engine's own tools.

`usage sweep` (one line per storage mode: `loop` where this host can make loop file systems,
and `none`). Setup (not timed): a scratch DB with VOLUMES users, each with a stopped container
row (so the sweep measures them), and a volume per user made by the runtime's own path
(`DockerRuntime._ensure_volume`: in `loop` mode an ext4 image per volume in a scratch
storage_dir), filled with FILES_PER_VOLUME files of FILE_BYTES each by one throw-away
container mounting every volume; one warm-up sweep.
- `ours_s`: median of ROUNDS `saas_panel.services.storage.sweep()` calls: read the users and
  their plans, ONE `volume_usage` call for every volume (`loop`: a stat of each image file;
  `none`: the engine's disk-usage call), write every usage in one statement.
- `raw_s`: median of ROUNDS `client.df()` calls (`docker system df -v` through the SDK: the
  engine walks every volume's files, and sizes its images, containers and build cache too),
  filtered to these volumes: what an operator would run for the same numbers. Rounds alternate
  ours/raw. The engine leaves volumes with driver options out of df, so in `loop` mode it
  reports none of ours (`raw_volumes_sized`: how many of the VOLUMES df gave a size for).
- `ratio`: ours_s / raw_s; `per_volume_ms`: ours_s / VOLUMES.

`plan change`. Setup (not timed): a scratch DB with the default plan and a second plan with
other memory and CPU and the same storage; two users, each given a running container by
`provisioning.provision` (with its volume, in the mode `auto` picks); one warm-up per side.
ROUNDS_PLAN rounds, the order of the sides alternating; each side flips its user between the
two plans, timed until it returns.
- `ours_s`: `plan_change.change_plan(admin, user_id, plan_id)`. Besides the engine calls it reads
  the user and plans, checks the image is on the engine, takes the user's lock and a spawn slot,
  clears a stale `<name>-next`, resizes the volume to the plan (a no-op at the same size, but a
  `losetup` in `loop` mode), creates `<name>-next` (network and volume ensured first), waits
  until it accepts connections on the app port at its network address (an inspect and a dial
  every 0.2 s), removes the old one, renames, then writes the user's plan, an activity row and
  the container row.
- `raw_s`: the same recreate with the SDK alone: `containers.run` of the same image with
  `create_options(spec)` for the other plan's limits under `<name>-next`, a dial of its network
  address on the app port every 10 ms until it accepts, force-remove the old one, rename.

Containers, volumes and network are named with a per-run prefix `bench-<random>-`; in a
`finally` (Ctrl-C ignored meanwhile) every container and volume with the prefix, their loop
file systems and the network are removed, then the scratch storage_dir if it is empty.
"""

from __future__ import annotations

import secrets
import shutil
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.common import environment, scratch_database
from benchmarks.fleet import remove_prefix, sigint_ignored

VOLUMES = 100
FILES_PER_VOLUME = 3
FILE_BYTES = 64 * 1024
STORAGE_MB = 64
ROUNDS = 20
ROUNDS_PLAN = 5
VOLUME_WORKERS = 4
DIAL_INTERVAL_S = 0.01
ANSWER_TIMEOUT_S = 30.0
FILL_SCRIPT = """
import os, sys
for directory in sys.argv[3:]:
    for index in range(int(sys.argv[1])):
        with open(f"{directory}/file-{index}", "wb") as file:
            file.write(os.urandom(int(sys.argv[2])))
"""


def _alternating_medians(ours: Callable[[], object], raw: Callable[[], object], rounds: int) -> tuple[float, float]:
    """Median seconds of each side over `rounds` rounds, the side going first alternating."""
    samples: dict[Callable, list[float]] = {ours: [], raw: []}
    for index in range(rounds):
        for side in (ours, raw) if index % 2 == 0 else (raw, ours):
            start = time.perf_counter()
            side()
            samples[side].append(time.perf_counter() - start)
    return statistics.median(samples[ours]), statistics.median(samples[raw])


def _add_users(usernames: list[str]) -> list:
    """A user per name, each with a stopped container row (as after a stop)."""
    from saas_panel.db import session_scope
    from saas_panel.models import Container, ContainerState, User
    from saas_panel.services.provisioning import container_name

    with session_scope() as session:
        users = [User(username=name, host_label=name, email=f"{name}@bench.example.com", password_hash="x") for name in usernames]
        session.add_all(users)
        session.flush()
        session.add_all(
            Container(user_id=user.id, name=container_name(user.username), image="", state=ContainerState.STOPPED.value)
            for user in users
        )
        return users


def _wait_until_dialable(address: str, port: int) -> None:
    deadline = time.monotonic() + ANSWER_TIMEOUT_S
    while True:
        try:
            with socket.create_connection((address, port), timeout=1):
                return
        except OSError:
            if time.monotonic() >= deadline:
                raise RuntimeError(f"{address}:{port} did not accept a connection within {ANSWER_TIMEOUT_S:g} s") from None
            time.sleep(DIAL_INTERVAL_S)


class Bench:
    def __init__(self) -> None:
        import docker

        self.prefix = f"bench-{secrets.token_hex(3)}-"
        self.network = f"{self.prefix}net"
        self.storage_dir = Path(tempfile.mkdtemp(prefix="saas-bench-volumes-"))
        self.client = docker.from_env(timeout=120)

    def settings(self, section: str, mode: str) -> dict[str, str]:
        """The environment of one section: its own name prefix (volume names repeat across scratch DBs)."""
        return {
            "SAAS_PANEL_CONTAINER_PREFIX": f"{self.prefix}{section}-",
            "SAAS_PANEL_USER_NETWORK": self.network,
            "SAAS_PANEL_STORAGE_DIR": str(self.storage_dir),
            "SAAS_PANEL_STORAGE_QUOTA": mode,
            "SAAS_PANEL_DEFAULT_STORAGE_MB": str(STORAGE_MB),
        }

    def loop_available(self) -> bool:
        from saas_panel.runtime.loop_volumes import LoopVolumes

        problem = LoopVolumes(self.storage_dir).problem
        if problem:
            print(f"[bench storage] no loop mode here: {problem}", file=sys.stderr)
        return problem is None

    # --- usage sweep ---

    def _fill(self, names: list[str], section: str) -> None:
        """FILES_PER_VOLUME files in each volume, written by one container mounting them all."""
        from docker.types import Mount

        from saas_panel.config import get_settings

        targets = [f"/v/{index}" for index in range(len(names))]
        self.client.containers.run(
            get_settings().user_image,
            ["python3", "-c", FILL_SCRIPT, str(FILES_PER_VOLUME), str(FILE_BYTES), *targets],
            entrypoint=[], name=f"{self.prefix}{section}-fill", user="0", network_mode="none", remove=True,
            mounts=[Mount(target=target, source=name, type="volume") for target, name in zip(targets, names)],
        )

    def sweep_line(self, mode: str) -> dict:
        from saas_panel.db import get_engine
        from saas_panel.runtime import get_runtime, reset_runtime
        from saas_panel.services import storage
        from saas_panel.services.provisioning import data_volume

        section = f"sweep-{mode}"
        with environment(self.settings(section, mode)), scratch_database():
            reset_runtime()
            try:
                runtime = get_runtime()
                volumes = [data_volume(user, STORAGE_MB) for user in _add_users([f"bench{index:03d}" for index in range(VOLUMES)])]
                with ThreadPoolExecutor(max_workers=VOLUME_WORKERS) as pool:
                    list(pool.map(runtime._ensure_volume, volumes))  # noqa: SLF001 - the runtime's own creation path
                names = {volume.name for volume in volumes}
                self._fill(sorted(names), section)
                if storage.sweep().measured != VOLUMES:
                    raise RuntimeError(f"the warm-up sweep did not measure the {VOLUMES} volumes")
                sized: dict[str, int] = {}

                def raw() -> None:
                    sized.clear()
                    sized.update(
                        (entry["Name"], entry["UsageData"]["Size"])
                        for entry in self.client.df().get("Volumes") or []
                        if entry["Name"] in names and (entry.get("UsageData") or {}).get("Size", -1) >= 0
                    )

                ours_s, raw_s = _alternating_medians(storage.sweep, raw, ROUNDS)
            finally:
                get_engine().dispose()
                reset_runtime()
                self.cleanup(f"{self.prefix}{section}-")
        return {
            "bench": "usage sweep, 100 volumes",
            "mode": mode,
            "volumes": VOLUMES,
            "ours_s": round(ours_s, 4),
            "raw_s": round(raw_s, 4),
            "ratio": round(ours_s / raw_s, 2),
            "per_volume_ms": round(ours_s / VOLUMES * 1000, 3),
            "raw_volumes_sized": len(sized),
        }

    # --- plan change ---

    def plan_change_line(self) -> dict:
        from saas_panel.db import get_engine, session_scope
        from saas_panel.models import Plan, Role, User
        from saas_panel.runtime import get_runtime, reset_runtime
        from saas_panel.runtime.docker_runtime import create_options
        from saas_panel.services import plan_change, plans, provisioning
        from saas_panel.services.auth import CurrentUser

        section = "plan"
        with environment(self.settings(section, "auto")), scratch_database():
            reset_runtime()
            try:
                users = _add_users(["benchours", "benchraw"])
                ours_user, raw_user = users
                with session_scope() as session:
                    admin_row = User(username="benchadmin", host_label="benchadmin", email="admin@bench.example.com",
                                     password_hash="x", role=Role.ADMIN.value)
                    session.add(admin_row)
                    default = plans.default_plan(session)
                    other = Plan(name="bench larger", image=default.image, cpu_limit=default.cpu_limit * 2,
                                 mem_limit_mb=default.mem_limit_mb * 2, storage_mb=default.storage_mb)
                    session.add(other)
                    session.flush()
                    plan_ids = [other.id, default.id]  # each side's user starts on the default plan
                    admin = CurrentUser(id=admin_row.id, username=admin_row.username, email=admin_row.email, role=admin_row.role)
                    raw_name = provisioning.container_name(raw_user.username)
                    raw_specs = [provisioning.user_spec(raw_name + plan_change.NEXT_SUFFIX, raw_user,
                                                        plans.limits_on(session.get(Plan, plan_id), raw_user)) for plan_id in plan_ids]
                for user in users:
                    provisioning.provision(user.username, actor=user.username)
                flips = {"ours": 0, "raw": 0}

                def next_plan(side: str) -> int:
                    """0, 1, 0, ...: the index in plan_ids of the plan `side`'s user moves to now."""
                    flips[side] += 1
                    return (flips[side] - 1) % 2

                def ours() -> None:
                    plan_change.change_plan(admin, ours_user.id, plan_ids[next_plan("ours")])

                def raw() -> None:
                    spec = raw_specs[next_plan("raw")]
                    new = self.client.containers.run(spec.image, detach=True, **create_options(spec))
                    new.reload()
                    _wait_until_dialable(new.attrs["NetworkSettings"]["Networks"][spec.network]["IPAddress"], spec.app_port)
                    self.client.api.remove_container(raw_name, force=True)
                    self.client.api.rename(new.id, raw_name)

                def check_on(plan_id: int) -> None:
                    """Both users' containers have `plan_id`'s memory: each side did recreate them."""
                    with session_scope() as session:
                        wanted = session.get(Plan, plan_id).mem_limit_mb * plans.MB
                    for user in users:
                        memory = self.client.api.inspect_container(provisioning.container_name(user.username))["HostConfig"]["Memory"]
                        if memory != wanted:
                            raise RuntimeError(f"{user.username}'s container has {memory} bytes of memory, not its plan's {wanted}")

                ours()  # warm-up, not timed
                raw()
                check_on(plan_ids[0])
                ours_s, raw_s = _alternating_medians(ours, raw, ROUNDS_PLAN)
                check_on(plan_ids[ROUNDS_PLAN % 2])
                mode = "loop" if get_runtime().storage_enforced else "none"
            finally:
                get_engine().dispose()
                reset_runtime()
                self.cleanup(f"{self.prefix}{section}-", self.network)
        return {
            "bench": "plan change",
            "mode": mode,
            "rounds": ROUNDS_PLAN,
            "ours_s": round(ours_s, 3),
            "raw_s": round(raw_s, 3),
            "ratio": round(ours_s / raw_s, 2),
        }

    def cleanup(self, prefix: str, network: str | None = None) -> None:
        """Every container and volume named `prefix*`, their loop file systems, and `network`."""
        from devtools.panel import remove_volumes

        with sigint_ignored():
            remove_prefix(self.client, prefix, network)
            remove_volumes(self.client, prefix, self.storage_dir)  # remove_prefix looks in the setting's storage_dir

    def close(self) -> None:
        from saas_panel.runtime.loop_volumes import LoopVolumes

        self.cleanup(self.prefix, self.network)
        with sigint_ignored():
            left = LoopVolumes(self.storage_dir).names()
            if left:
                print(f"[bench storage] file systems left in {self.storage_dir}: {', '.join(left)}", file=sys.stderr)
            else:
                shutil.rmtree(self.storage_dir, ignore_errors=True)
            self.client.close()


def run():
    bench = Bench()
    try:
        for mode in ("loop", "none") if bench.loop_available() else ("none",):
            yield bench.sweep_line(mode)
        yield bench.plan_change_line()
    finally:
        bench.close()
