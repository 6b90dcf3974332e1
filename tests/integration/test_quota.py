"""Storage quotas against the real engine: a loop ext4 file system per volume (root, loop devices),
and usage measured through the engine's df where the panel cannot cap it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from saas_panel.config import get_settings
from saas_panel.errors import EngineError, QuotaBelowUsage
from saas_panel.runtime.base import VolumeSpec
from saas_panel.runtime.docker_runtime import DockerRuntime
from saas_panel.runtime.loop_volumes import MIB, LoopVolumes
from saas_panel.services.provisioning import container_spec
from tests.prerequisites import skip_outside_ci

CAP_SYS_RESOURCE = 24
SETTLE_S = 20  # deleted blocks reach the image file at the file system's next journal commit (5 s)


@pytest.fixture
def loops(engine, monkeypatch) -> LoopVolumes:
    monkeypatch.setenv("SAAS_PANEL_STORAGE_QUOTA", "loop")
    loops = LoopVolumes(get_settings().storage_dir)
    if loops.problem:
        skip_outside_ci(f"loop file systems cannot be made here: {loops.problem}")
    return loops


@pytest.fixture
def runtime(docker_client) -> DockerRuntime:
    return DockerRuntime(client=docker_client)


@pytest.fixture
def app(engine, runtime):
    """`app(owner, size_mb)`: a hardened, running container of `owner` with their volume at /data."""

    def make(owner: str = "alice", size_mb: int | None = 20):
        volume = VolumeSpec(name=f"{engine}data-{owner}", owner=owner, size_mb=size_mb)
        settings = get_settings()
        spec = container_spec(f"{engine}{owner}", owner, settings.user_image, 128, 0.5, data=volume)
        return runtime.create(spec).id, volume

    return make


def _sh(docker_client, container_id: str, script: str) -> tuple[int, str]:
    result = docker_client.containers.get(container_id).exec_run(["sh", "-c", script])
    return result.exit_code, result.output.decode(errors="replace")


def _ok(docker_client, container_id: str, script: str) -> str:
    code, output = _sh(docker_client, container_id, script)
    assert code == 0, output
    return output


def _write_mib(docker_client, container_id: str, path: str, mib: int) -> tuple[int, str]:
    return _sh(docker_client, container_id, f"dd if=/dev/zero of={path} bs=1M count={mib} && sync")


def _data_kib(docker_client, container_id: str) -> int:
    """The size of the file system at /data, as df reports it."""
    return int(_ok(docker_client, container_id, "df -k /data").splitlines()[1].split()[1])


def _attached(image: Path) -> list[str]:
    return subprocess.run(["losetup", "-n", "-O", "NAME", "-j", str(image)], capture_output=True, text=True, check=True).stdout.split()


def _attached_anywhere(image: Path) -> list[str]:
    """Loop devices of `image`, also once the file is gone (`losetup -j` needs the file)."""
    listing = subprocess.run(["losetup", "-n", "-O", "NAME,BACK-FILE"], capture_output=True, text=True, check=True).stdout
    return [line.split()[0] for line in listing.splitlines() if str(image) in line]


def _usage_until(runtime: DockerRuntime, volume: VolumeSpec, done) -> int:
    deadline = time.monotonic() + SETTLE_S
    while not done(used := runtime.volume_usage([volume]).get(volume.name, 0)) and time.monotonic() < deadline:
        time.sleep(0.5)
    return used


def _can_resize_mounted() -> bool:
    """The kernel resizes a mounted ext4 only for CAP_SYS_RESOURCE, which root lacks in some VMs."""
    effective = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("CapEff:"))
    return bool(int(effective.split()[1], 16) >> CAP_SYS_RESOURCE & 1)


def test_a_write_past_the_quota_fails_inside_the_container(loops, app, runtime, docker_client):
    container_id, volume = app(size_mb=20)
    assert runtime.storage_enforced
    assert _ok(docker_client, container_id, "ls -A /data; id -u") == "65534\n"  # empty, as an engine volume starts
    assert _write_mib(docker_client, container_id, "/data/small", 8)[0] == 0
    code, output = _write_mib(docker_client, container_id, "/data/big", 20)
    assert code != 0 and "No space left on device" in output
    assert loops.image(volume.name).stat().st_size == 20 * MIB


def test_usage_grows_with_the_files_and_shrinks_when_they_go(loops, app, runtime, docker_client):
    container_id, volume = app(size_mb=40)
    empty = runtime.volume_usage([volume])[volume.name]
    _ok(docker_client, container_id, "dd if=/dev/zero of=/data/f bs=1M count=12 && sync")
    # Roughly: the file system's own blocks come and go around the file's.
    assert _usage_until(runtime, volume, lambda used: used >= empty + 10 * MIB) >= empty + 10 * MIB
    _ok(docker_client, container_id, "rm /data/f && sync")
    assert _usage_until(runtime, volume, lambda used: used < empty + 2 * MIB) < empty + 2 * MIB
    assert runtime.volume_usage([volume, VolumeSpec(name="never-made", owner="nobody")]).keys() == {volume.name}


def test_growing_while_the_app_runs_gives_the_room(loops, app, runtime, docker_client):
    container_id, volume = app(size_mb=20)
    before = _data_kib(docker_client, container_id)
    _ok(docker_client, container_id, "echo kept > /data/note")
    runtime.resize_volume(VolumeSpec(volume.name, volume.owner, size_mb=60))
    if not _can_resize_mounted():  # the file system grows at the app's next start
        runtime.stop(container_id)
        runtime.start(container_id)
    assert _data_kib(docker_client, container_id) > before + 35 * 1024
    assert _write_mib(docker_client, container_id, "/data/more", 30)[0] == 0
    assert _ok(docker_client, container_id, "cat /data/note") == "kept\n"


def test_a_shrink_below_usage_is_refused_and_changes_nothing(loops, app, runtime, docker_client):
    container_id, volume = app(size_mb=60)
    _ok(docker_client, container_id, "dd if=/dev/zero of=/data/f bs=1M count=30 && sync")
    runtime.stop(container_id)
    with pytest.raises(QuotaBelowUsage) as refused:
        runtime.resize_volume(VolumeSpec(volume.name, volume.owner, size_mb=20))
    assert refused.value.used_bytes > 30 * MIB and refused.value.field == "storage_mb"
    assert loops.image(volume.name).stat().st_size == 60 * MIB
    runtime.start(container_id)
    assert _write_mib(docker_client, container_id, "/data/g", 10)[0] == 0  # the room is still there
    assert _ok(docker_client, container_id, "ls /data") == "f\ng\n"

    with pytest.raises(EngineError, match="Stop the app"):  # above the usage, but mounted
        runtime.resize_volume(VolumeSpec(volume.name, volume.owner, size_mb=55))
    runtime.stop(container_id)
    runtime.resize_volume(VolumeSpec(volume.name, volume.owner, size_mb=55))
    runtime.start(container_id)
    assert loops.image(volume.name).stat().st_size == 55 * MIB
    assert _ok(docker_client, container_id, "ls -A /data") == "f\ng\n"  # e2fsck's lost+found is gone again


def test_after_a_reboot_a_new_container_gets_the_same_files(loops, app, runtime, docker_client):
    container_id, volume = app()
    _ok(docker_client, container_id, "echo kept > /data/note")
    runtime.remove(container_id)
    image = loops.image(volume.name)
    for device in _attached(image):  # what a reboot does
        subprocess.run(["losetup", "-d", device], check=True)
    assert _attached(image) == []

    container_id, _ = app()
    assert len(_attached(image)) == 1
    assert _ok(docker_client, container_id, "cat /data/note") == "kept\n"


def test_after_a_reboot_a_stopped_app_starts_on_its_own_files_not_on_whoever_got_its_loop_device(
    loops, app, runtime, docker_client
):
    alice_id, alice_volume = app("alice")
    _ok(docker_client, alice_id, "echo alice > /data/note")
    runtime.stop(alice_id)
    [device] = _attached(loops.image(alice_volume.name))
    subprocess.run(["losetup", "-d", device], check=True)  # the link left in place still names the device

    bob_id, bob_volume = app("bob")  # takes the lowest free loop device: usually the one alice had
    _ok(docker_client, bob_id, "echo bob > /data/note")
    runtime.start(alice_id)
    assert _ok(docker_client, alice_id, "cat /data/note") == "alice\n"
    assert _ok(docker_client, bob_id, "cat /data/note") == "bob\n"
    assert len(_attached(loops.image(alice_volume.name))) == 1


def test_removing_the_volume_leaves_no_loop_device_and_no_image(loops, app, runtime, docker_client):
    container_id, volume = app()
    image = loops.image(volume.name)
    assert _attached(image) and loops.link(volume.name).is_symlink()
    runtime.remove(container_id)

    assert runtime.remove_volume(volume) is True
    assert _attached_anywhere(image) == []
    assert not image.exists() and not loops.link(volume.name).exists()
    assert docker_client.volumes.list(filters={"name": volume.name}) == []
    assert runtime.remove_volume(volume) is False


def test_workers_making_one_volume_at_once_attach_it_once(loops, tmp_path):
    name, go = f"t{os.getpid()}-concurrent", tmp_path / "go"
    worker = (  # says it is ready, waits for the go, makes the volume
        "import os, sys, time\n"
        "from saas_panel.runtime.loop_volumes import LoopVolumes\n"
        "open(f'{sys.argv[1]}.{os.getpid()}', 'w').close()\n"
        "while not os.path.exists(sys.argv[1]): time.sleep(0.001)\n"
        "LoopVolumes(sys.argv[2]).ensure(sys.argv[3], 20)\n"
    )
    try:
        workers = [subprocess.Popen([sys.executable, "-c", worker, str(go), str(loops.storage_dir), name]) for _ in range(8)]
        deadline = time.monotonic() + 60
        while len(list(tmp_path.glob("go.*"))) < len(workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        go.touch()
        assert [worker.wait(timeout=60) for worker in workers] == [0] * len(workers)
        assert len(_attached(loops.image(name))) == 1
    finally:
        loops.remove(name)


def test_a_full_host_disk_is_a_clear_error_and_leaves_no_file(loops, tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)], check=True)
    on_full_disk = LoopVolumes(disk)
    try:
        subprocess.run(["dd", "if=/dev/zero", f"of={disk / 'filler'}", "bs=4k"], capture_output=True)  # until ENOSPC
        with pytest.raises(EngineError, match="The host's disk is full"):
            on_full_disk.ensure("full", 20)
        assert list(disk.glob("*.img*")) == []
    finally:
        on_full_disk.remove("full")
        subprocess.run(["umount", str(disk)], check=True)


def test_without_loop_devices_usage_is_measured_through_the_engine(engine, app, runtime, docker_client, monkeypatch):
    monkeypatch.setenv("SAAS_PANEL_STORAGE_QUOTA", "none")
    container_id, volume = app(size_mb=5)
    assert not runtime.storage_enforced
    assert not docker_client.volumes.get(volume.name).attrs.get("Options")  # a plain engine volume
    _ok(docker_client, container_id, "dd if=/dev/zero of=/data/f bs=1M count=8 && sync")  # nothing stops it
    assert runtime.volume_usage([volume])[volume.name] >= 8 * MIB
    with pytest.raises(QuotaBelowUsage):
        runtime.resize_volume(VolumeSpec(volume.name, volume.owner, size_mb=5))
    runtime.resize_volume(VolumeSpec(volume.name, volume.owner, size_mb=50))
    assert list(Path(get_settings().storage_dir).glob("*.img")) == []


def test_usage_through_the_engine_waits_for_a_df_already_running(engine, app, runtime, monkeypatch):
    """The engine runs one disk usage report at a time and refuses the others (other workers, an operator)."""
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setenv("SAAS_PANEL_STORAGE_QUOTA", "none")
    _, volume = app(size_mb=5)
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda _: runtime.volume_usage([volume]), range(6)))
    assert all(volume.name in result for result in results)
