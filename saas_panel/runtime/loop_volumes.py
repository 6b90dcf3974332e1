"""Size-capped storage on the engine's host: an ext4 file system per volume, in a sparse image file
(`<storage_dir>/<volume>.img`) attached to a loop device. A write past the size fails with ENOSPC
inside the container. Needs root, loop devices and e2fsprogs on the host.

The engine mounts `link(volume)`, a symlink this module points at the image's loop device, never
a loop device itself: loop numbers change at a reboot, and an engine volume naming /dev/loop3
would then mount whoever's image got that number. The links live in /run, which a reboot empties,
so a stale one mounts nothing: `ensure` (called before every start) attaches and links again.

A grow is online (resize2fs on the mounted file system) where the kernel allows it: it needs
CAP_SYS_RESOURCE, which root lacks in some VMs and containers. There the image is enlarged at
once and the file system grows at the volume's next `ensure`, before the app starts again.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

from saas_panel.errors import EngineError, QuotaBelowUsage

log = logging.getLogger(__name__)
LINK_DIR = Path("/run/saas-panel/volumes")
MIB = 1024 * 1024
TOOLS = ("losetup", "mkfs.ext4", "e2fsck", "resize2fs", "debugfs")
# No reserved blocks, a 4 MiB journal (the default takes a quarter of a small volume), 4 KiB blocks
# and one inode per 16 KiB at every size (mke2fs's "small" type makes 1 KiB blocks, which leave
# resize2fs unable to shrink), the root directory owned by the app's user (uid 65534), inode
# tables zeroed lazily (creation in ms).
MKFS_OPTIONS = (
    "-q", "-m", "0", "-J", "size=4", "-b", "4096", "-T", "default",
    "-E", "root_owner=65534:65534,lazy_itable_init=1",
)
# `discard` gives deleted files' blocks back to the image file, so its allocated size is the usage.
MOUNT_OPTIONS = "nosuid,nodev,discard"
SUPERBLOCK_OFFSET, INCOMPAT_64BIT = 1024, 0x80
E2FSCK_UNFIXED = 4  # e2fsck's exit codes from 4 up: errors left uncorrected
COMMAND_TIMEOUT_S = 600  # resize2fs of a large, full file system takes minutes


def _storage_error(detail: str) -> EngineError:
    if "No space left on device" in detail:
        return EngineError(f"The host's disk is full: no room for a user's storage ({detail}).")
    return EngineError(f"Could not change a user's storage: {detail}")


def _run(*command: str | Path, accepted_codes: range = range(1)) -> str:
    try:
        result = subprocess.run(
            [str(part) for part in command],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S,
            # Out of the panel's process group: a stop signal sent to the group (Ctrl-C, systemd's
            # default, `kill -- -PGID`) must not cut a file system command short while the graceful
            # shutdown lets the provision that runs it finish.
            start_new_session=True,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise _storage_error(str(exc)) from exc
    if result.returncode not in accepted_codes:
        last_line = ((result.stderr or result.stdout).strip().splitlines() or [""])[-1]
        raise _storage_error(f"{command[0]} failed ({result.returncode}): {last_line}")
    return result.stdout


@contextmanager
def _host_errors() -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise _storage_error(f"{exc.filename}: {exc.strerror}") from exc


def _filesystem_bytes(image: Path) -> int:
    """The size the ext4 file system in `image` has, from its superblock (no subprocess)."""
    with _host_errors(), image.open("rb") as file:
        file.seek(SUPERBLOCK_OFFSET)
        superblock = file.read(1024)

    def field(offset: int) -> int:
        return int.from_bytes(superblock[offset : offset + 4], "little")

    blocks = field(0x4) | (field(0x150) << 32 if field(0x60) & INCOMPAT_64BIT else 0)
    return blocks * (1024 << field(0x18))


class LoopVolumes:
    """The loop file systems kept in `storage_dir`, one per volume name."""

    def __init__(self, storage_dir: Path, link_dir: Path = LINK_DIR):
        self.storage_dir = Path(storage_dir).absolute()
        self.link_dir = link_dir

    @cached_property
    def problem(self) -> str | None:
        """Why this host cannot make loop file systems; None when it can."""
        if os.geteuid() != 0:
            return "the panel does not run as root"
        missing = [tool for tool in TOOLS if shutil.which(tool) is None]
        if missing:
            return f"{', '.join(missing)} not found (e2fsprogs, util-linux)"
        if not Path("/dev/loop-control").exists():
            return "the host has no loop devices (/dev/loop-control)"
        for directory in (self.storage_dir, self.link_dir):
            try:
                directory.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                return f"{directory} cannot be created ({exc.strerror})"
            if not os.access(directory, os.W_OK):
                return f"{directory} is not writable"
        return None

    def available(self) -> bool:
        return self.problem is None

    def image(self, name: str) -> Path:
        return self.storage_dir / f"{name}.img"

    def link(self, name: str) -> Path:
        """The device path the engine mounts for `name`."""
        return self.link_dir / name

    def exists(self, name: str) -> bool:
        return self.image(name).exists()

    def names(self, prefix: str = "") -> list[str]:
        """The volumes that have a file system here, whose names start with `prefix`."""
        return sorted(image.name.removesuffix(".img") for image in self.storage_dir.glob(f"{prefix}*.img"))

    def ensure(self, name: str, size_mb: int | None) -> str:
        """Attach `name`'s file system, made first (empty, `size_mb` MiB) if it has none; its loop device."""
        with self._locked(name):
            if not self.exists(name):
                if size_mb is None:
                    raise EngineError(f"The file system of {name} is missing from {self.storage_dir}.")
                self._make(name, size_mb)
            device = self._attach(name)
            if _filesystem_bytes(self.image(name)) < self.image(name).stat().st_size:
                try:
                    self._grow_offline(device)
                except EngineError as exc:  # the app starts with the room it had; the next start tries again
                    log.warning("The file system of %s could not grow: %s", name, exc)
            return device

    def used_bytes(self, name: str) -> int | None:
        """What the image file takes on the host's disk (file system metadata included); None without one."""
        try:
            return self.image(name).stat().st_blocks * 512
        except FileNotFoundError:
            return None

    def resize(self, name: str, size_mb: int, mounted: bool) -> None:
        """Make `name`'s file system `size_mb` MiB: a grow works mounted, a shrink needs it unmounted.
        Nothing to do for a volume without a file system (it is made at the right size)."""
        with self._locked(name):
            if not self.exists(name):
                return
            image, device = self.image(name), self._attach(name)
            current, wanted = image.stat().st_size, size_mb * MIB
            if wanted > current:
                # A failure after the truncate leaves the image larger than its file system: harmless,
                # the next resize uses the room.
                with _host_errors():
                    os.truncate(image, wanted)
                _run("losetup", "-c", device)
                if mounted:
                    self._grow_online(name, device)
                else:
                    self._grow_offline(device)
            elif wanted < current:
                used = image.stat().st_blocks * 512
                if used > wanted:
                    raise QuotaBelowUsage(used, size_mb)
                if mounted:
                    raise EngineError("Stop the app before making its storage smaller.")
                self._check(device)
                _run("resize2fs", device, f"{size_mb}M")
                with _host_errors():
                    os.truncate(image, wanted)
                _run("losetup", "-c", device)

    def remove(self, name: str) -> bool:
        """Detach and delete `name`'s file system; False when it had none."""
        with self._locked(name) as lock:
            image = self.image(name)
            if image.exists():
                for device in self._devices(image):
                    _run("losetup", "-d", device)
            self.link(name).unlink(missing_ok=True)
            lock.unlink()  # while held: a process waiting for it locks a new one (see _locked)
            try:
                image.unlink()
            except FileNotFoundError:
                return False
            return True

    @contextmanager
    def _locked(self, name: str) -> Iterator[Path]:
        """Hold `name`'s lock, across processes (panel workers share the host): two `losetup`s of
        one image would attach it twice and two mounts of it corrupt it."""
        path = self.storage_dir / f"{name}.lock"
        with _host_errors():
            self.storage_dir.mkdir(parents=True, exist_ok=True)
        while True:
            with _host_errors():
                descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            try:
                if os.fstat(descriptor).st_ino == os.stat(path).st_ino:
                    break
            except FileNotFoundError:
                pass
            os.close(descriptor)  # `remove` deleted the file we waited on
        try:
            yield path
        finally:
            os.close(descriptor)

    def _make(self, name: str, size_mb: int) -> None:
        """A new file system, renamed into place only once complete: a failure (a full disk) leaves no file."""
        partial = self.storage_dir / f"{name}.img.partial"
        try:
            with _host_errors():
                partial.unlink(missing_ok=True)
                with partial.open("wb") as image:
                    image.truncate(size_mb * MIB)
            _run("mkfs.ext4", *MKFS_OPTIONS, partial)
            self._remove_lost_found(partial)
            with _host_errors():
                partial.rename(self.image(name))
        finally:
            partial.unlink(missing_ok=True)

    @staticmethod
    def _remove_lost_found(target: str | Path) -> None:
        # /data starts empty, as an engine volume does; e2fsck makes lost+found again when it needs one
        # (an unmounted file system only; a lost+found with files in it stays).
        _run("debugfs", "-w", "-R", "rmdir lost+found", target)

    @staticmethod
    def _grow_online(name: str, device: str) -> None:
        try:
            _run("resize2fs", device)
        except EngineError as exc:
            if "Permission denied" not in str(exc):
                raise
            log.warning("The file system of %s grows at its next start: the kernel refused to resize it mounted "
                        "(the panel's root has no CAP_SYS_RESOURCE)", name)

    def _grow_offline(self, device: str) -> None:
        self._check(device)
        _run("resize2fs", device)

    def _check(self, device: str) -> None:
        """e2fsck before an offline resize (resize2fs insists), then the lost+found it recreates goes."""
        _run("e2fsck", "-f", "-p", device, accepted_codes=range(E2FSCK_UNFIXED))
        self._remove_lost_found(device)

    @staticmethod
    def _devices(image: Path) -> list[str]:
        return _run("losetup", "-n", "-O", "NAME", "-j", image).split()

    def _attach(self, name: str) -> str:
        image, link = self.image(name), self.link(name)
        devices = self._devices(image)
        device = devices[0] if devices else _run("losetup", "-f", "--show", image).strip()
        if not (link.is_symlink() and os.readlink(link) == device):
            fresh = link.with_name(f".{name}.new")
            with _host_errors():
                self.link_dir.mkdir(parents=True, exist_ok=True)
                fresh.unlink(missing_ok=True)
                fresh.symlink_to(device)
                fresh.replace(link)
        return device
