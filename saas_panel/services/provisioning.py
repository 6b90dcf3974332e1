"""One hardened container per user, safe to retry after a crash at any step.

The order is fixed: (1) the DB row in state `provisioning` with a name derived
from the username, (2) the engine container, found by that name or created,
(3) the row in state `running` with the port the engine assigned. A retry
re-reads each step's result instead of redoing it, so it ends with exactly one
row and one container.

Each user's files live in a volume of their own (`data_volume`), mounted at /data:
it outlives the container and goes only with `remove_data`.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from functools import lru_cache

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from saas_panel import faults
from saas_panel.config import get_settings
from saas_panel.db import session_scope
from saas_panel.errors import (
    ContainerExists, ContainerNotFound, DomainError, EngineError, EngineUnavailable, NotFound, PermissionDenied, StorageFull,
    ValidationError,
)
from saas_panel.models import Container, ContainerState, Outcome, User, utcnow
from saas_panel.runtime import ContainerInfo, ContainerRuntime, ContainerSpec, VolumeSpec, get_runtime
from saas_panel.services import activity, counters, nodes, plans, throttle
from saas_panel.services.auth import CurrentUser

NAME_RACE_BACKOFF_S = (0.01, 0.05, 0.1, 0.25, 0.5)


class ContainerAction(str, Enum):
    """Everything a person can do to a container: its owner the first three, an admin all four."""

    START = "start"
    STOP = "stop"
    RESTART = "restart"
    DELETE = "delete"

    @property
    def logged_as(self) -> activity.Action:
        return activity.Action.REMOVE_CONTAINER if self is ContainerAction.DELETE else activity.Action(self.value)

    @property
    def bulk_logged_as(self) -> activity.Action:
        return activity.Action(f"bulk_{self.value}")


CONTROL_ACTIONS = (ContainerAction.START, ContainerAction.STOP, ContainerAction.RESTART)  # keep the container


def parse_action(value: str, allowed: tuple[ContainerAction, ...] = tuple(ContainerAction)) -> ContainerAction:
    """`value` as one of `allowed`; a client's unknown word is a ValidationError."""
    if value not in allowed:
        raise ValidationError("action", "Unknown container action.")
    return ContainerAction(value)


@dataclass(frozen=True)
class ContainerView:
    """A container's row as the panel last saw it (or just synced it with the engine)."""

    id: int
    owner: str  # "" when the owner was deleted
    name: str
    state: str
    image: str
    engine_id: str | None
    host_port: int | None
    mem_limit_mb: int | None  # the owner's limits; None without an owner
    cpu_limit: float | None
    created_at: datetime | None
    started_at: datetime | None
    error: str | None
    engine_available: bool = True
    host_label: str = ""  # the app's host name label: <label>.<apps domain>
    node_down: bool = False  # the node it runs on (an engine of several hosts) was last seen down


def container_name(username: str) -> str:
    """A name the engine accepts (usernames are [a-z0-9_-], older ones with '_')."""
    return f"{get_settings().container_prefix}{username}"


def data_volume(user: User, size_mb: int | None = None) -> VolumeSpec:
    """`user`'s storage, capped at `size_mb`: named after the account's id and labelled with its
    username, both checked by the engine before it mounts the volume (see ContainerRuntime.create)."""
    return VolumeSpec(name=f"{get_settings().container_prefix}data-{user.id}", owner=user.username, size_mb=size_mb)


def engine_state(info: ContainerInfo | None) -> ContainerState:
    """The row state matching what the engine reports (None: it has no such container)."""
    if info is None:
        return ContainerState.MISSING
    return ContainerState.RUNNING if info.running else ContainerState.STOPPED


@lru_cache(maxsize=1)
def spawn_slots() -> threading.BoundedSemaphore:
    """Caps concurrent container creations: past the engine's ~8/s, more only queue inside the engine."""
    return threading.BoundedSemaphore(get_settings().max_concurrent_provisioning)


# Containers the panel is acting on now (and for a moment after, as engine events trail the
# API call): the collector leaves them alone and does not log their changes as external.
_panel_actions: dict[str, float] = {}
EVENT_TRAIL_S = 1.0


@contextmanager
def panel_action(container_name: str) -> Iterator[None]:
    _panel_actions[container_name] = float("inf")
    try:
        yield
    finally:
        _panel_actions[container_name] = time.monotonic() + EVENT_TRAIL_S


def panel_action_in_progress(container_name: str) -> bool:
    deadline = _panel_actions.get(container_name)
    if deadline is None:
        return False
    if deadline < time.monotonic():
        _panel_actions.pop(container_name, None)
        return False
    return True


_user_locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
_user_locks_guard = threading.Lock()


def user_lock(username: str) -> threading.Lock:
    """Serialises provisioning of one user within this process (other processes rely on the name)."""
    with _user_locks_guard:
        return _user_locks[username]


def _limits(user: User) -> plans.Limits:
    with session_scope() as session:
        return plans.limits_of(session, user)


def view_of(row: Container, user: User | None, engine_available: bool = True) -> ContainerView:
    """The view of `row`, owned by `user` (None: the owner was deleted)."""
    limits = _limits(user) if user is not None else None
    return ContainerView(
        id=row.id,
        owner=user.username if user is not None else "",
        name=row.name,
        state=row.state,
        image=row.image,
        engine_id=row.engine_id,
        host_port=row.host_port,
        mem_limit_mb=limits.mem_limit_mb if limits else None,
        cpu_limit=limits.cpu_limit if limits else None,
        created_at=row.created_at,
        started_at=row.started_at,
        error=row.error,
        engine_available=engine_available,
        host_label=user.host_label if user is not None else "",
        node_down=nodes.node_down(row.node),
    )


def _user_by_name(session, username: str) -> User:
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound("This user does not exist.")
    return user


def user_and_row(username: str) -> tuple[User, Container | None]:
    """The user (NotFound if gone) and their container row, if any."""
    with session_scope() as session:
        user = _user_by_name(session, username)
        return user, session.exec(select(Container).where(Container.user_id == user.id)).first()


def _claim_row(username: str) -> tuple[Container, User]:
    """Step 1: the user's container row, created in state `provisioning` if missing."""
    for _ in range(2):
        try:
            with session_scope() as session:
                user = _user_by_name(session, username)
                row = session.exec(select(Container).where(Container.user_id == user.id)).first()
                if row is None:
                    row = Container(user_id=user.id, name=container_name(username), image=plans.limits_of(session, user).image)
                    session.add(row)
                    session.flush()
                elif row.state != ContainerState.RUNNING.value:
                    row.state = ContainerState.PROVISIONING.value
                    row.updated_at = utcnow()
                return row, user
        except IntegrityError:
            continue  # a concurrent call inserted it first: read theirs
    raise EngineError("Could not reserve a container for this user; try again.")


def container_spec(
    name: str, username: str, image: str, mem_limit_mb: int, cpu_limit: float, data: VolumeSpec | None = None
) -> ContainerSpec:
    """What the engine is asked for: `username`'s container under the current settings, with `data` at /data."""
    settings = get_settings()
    return ContainerSpec(
        name=name,
        image=image,
        owner=username,
        app_port=settings.user_app_port,
        bind_host=settings.bind_host,
        network=settings.user_network,
        mem_limit_mb=mem_limit_mb,
        cpu_limit=cpu_limit,
        pids_limit=settings.pids_limit,
        env={"SAAS_USERNAME": username},
        log_max_size=settings.log_max_size,
        log_max_files=settings.log_max_files,
        nofile_limit=settings.nofile_limit,
        data_volume=data,
    )


def user_spec(name: str, user: User, limits: plans.Limits) -> ContainerSpec:
    """The only spec the panel creates a user's container from: their plan's image and limits, their own volume."""
    return container_spec(name, user.username, limits.image, limits.mem_limit_mb, limits.cpu_limit,
                          data=data_volume(user, limits.storage_mb))


def _inspect_reserved(runtime: ContainerRuntime, name: str) -> ContainerInfo:
    """Inspect a name another process just reserved: the engine may 404 for a few milliseconds."""
    for delay in NAME_RACE_BACKOFF_S:
        try:
            return runtime.inspect(name)
        except ContainerNotFound:
            time.sleep(delay)
    return runtime.inspect(name)


def _ensure_container(runtime: ContainerRuntime, spec: ContainerSpec) -> ContainerInfo:
    """Step 2: find the container by name (a retry) or create it; make sure it runs."""
    try:
        info = runtime.inspect(spec.name)
    except ContainerNotFound:
        try:
            return runtime.create(spec)
        except ContainerExists:
            info = _inspect_reserved(runtime, spec.name)
    if info.owner != spec.owner:
        raise EngineError(f"The name {spec.name} is taken by a container the panel does not manage.")
    return info if info.running else runtime.start(info.id)


def save_engine_state(row_id: int, info: ContainerInfo | None, error: str | None = None) -> Container:
    """Step 3 (and every later sync): copy what the engine says into the row."""
    with session_scope() as session:
        row = session.get(Container, row_id)
        if row is None:
            raise NotFound("This user no longer exists.")
        row.state = ContainerState.ERROR.value if error else engine_state(info).value
        if info is not None:
            row.engine_id, row.image = info.id, info.image
            row.node = info.node or row.node
            row.host_port = info.host_port if info.running else row.host_port
            row.started_at = info.started_at if info.running else row.started_at
        row.error = error[:500] if error else None
        row.updated_at = utcnow()
        return row


def provision(username: str, *, actor: str | None = None, ip: str | None = None, runtime: ContainerRuntime | None = None) -> ContainerView:
    """Give `username` a running container; return the existing one if it is there."""
    runtime = runtime or get_runtime()
    with user_lock(username), spawn_slots():
        row, user = _claim_row(username)
        faults.reached("provision.row_written")
        spec = user_spec(row.name, user, _limits(user))
        started = time.monotonic()
        try:
            with panel_action(row.name):
                info = _ensure_container(runtime, spec)
                faults.reached("provision.container_started")
        except DomainError as exc:
            save_engine_state(row.id, None, error=str(exc))
            activity.record(activity.Action.PROVISION, actor=actor or username, target=username, ip=ip, outcome=Outcome.FAILURE, details=str(exc))
            raise
        try:
            row = save_engine_state(row.id, info)
        except NotFound:  # the account was deleted meanwhile (by another process): leave no orphan
            runtime.remove(info.id)
            runtime.remove_volume(spec.data_volume)
            raise
        counters.observe(counters.PROVISION_SECONDS, time.monotonic() - started, counters.PROVISION_BUCKETS)
    activity.record(activity.Action.PROVISION, actor=actor or username, target=username, ip=ip, details=f"port {row.host_port}")
    return view_of(row, user)


def container_row_id(username: str) -> int | None:
    with session_scope() as session:
        return session.exec(
            select(Container.id).join(User, User.id == Container.user_id).where(User.username == username)
        ).first()


def status(username: str, runtime: ContainerRuntime | None = None) -> ContainerView | None:
    """The user's container as the engine sees it now (the row is updated to match)."""
    runtime = runtime or get_runtime()
    user, row = user_and_row(username)
    if row is None:
        return None
    if row.state == ContainerState.PROVISIONING.value:
        return view_of(row, user)
    try:
        info = runtime.inspect(row.engine_id or row.name)
    except ContainerNotFound:
        info = None
    except EngineUnavailable:
        return view_of(row, user, engine_available=False)
    if row.state == ContainerState.ERROR.value and info is None:
        return view_of(row, user)
    return view_of(save_engine_state(row.id, info), user)


def _refuse_when_storage_full(username: str, runtime: ContainerRuntime) -> None:
    """Where the engine cannot cap /data, an app at its quota stays stopped (storage.sweep stops it)."""
    if runtime.storage_enforced:
        return
    with session_scope() as session:
        user = _user_by_name(session, username)
        used, size_mb = user.storage_used_bytes or 0, plans.plan_of(session, user).storage_mb
    if used >= size_mb * plans.MB:
        raise StorageFull(used, size_mb)


def control(
    username: str, action: ContainerAction | str, *, actor: str, ip: str | None = None, runtime: ContainerRuntime | None = None,
    logged_as: activity.Action | None = None, details: str | None = None,
) -> ContainerView:
    """Start, stop or restart `username`'s container. Ownership is the caller's check.

    The activity row names `action`, or `logged_as` with `details` when the caller has a reason
    of its own (the idle culler's stop).
    """
    action = parse_action(action, CONTROL_ACTIONS)
    logged_as = logged_as or action.logged_as
    runtime = runtime or get_runtime()
    if action is not ContainerAction.STOP:
        _refuse_when_storage_full(username, runtime)
    current = status(username, runtime)
    if current is None or current.state == ContainerState.MISSING.value:
        if action is ContainerAction.STOP:
            raise NotFound("There is no container to stop.")
        return provision(username, actor=actor, ip=ip, runtime=runtime)
    operation = {ContainerAction.START: runtime.start, ContainerAction.STOP: runtime.stop, ContainerAction.RESTART: runtime.restart}[action]
    try:
        with panel_action(current.name):
            info = operation(current.engine_id or current.name)
    except DomainError as exc:
        activity.record(logged_as, actor=actor, target=username, ip=ip, outcome=Outcome.FAILURE, details=str(exc))
        raise
    user, row = user_and_row(username)
    row = save_engine_state(row.id, info)
    activity.record(logged_as, actor=actor, target=username, ip=ip, details=details)
    return view_of(row, user)


def user_control(user: CurrentUser, action: ContainerAction | str, *, ip: str | None = None) -> ContainerView:
    """A user acting on their own container: rate-limited per user; administrators have none."""
    settings = get_settings()
    throttle.hit(throttle.Limit(f"control:user:{user.id}", settings.container_action_limit, settings.container_action_window_seconds))
    if user.is_admin and container_row_id(user.username) is None:
        raise PermissionDenied("Administrators have no app container of their own.")
    return control(user.username, action, actor=user.username, ip=ip)


def apply_limits(username: str, runtime: ContainerRuntime | None = None) -> bool:
    """Push the user's current limits to their existing container; False when there is none."""
    runtime = runtime or get_runtime()
    user, row = user_and_row(username)
    if row is None or row.state in (ContainerState.PROVISIONING.value, ContainerState.MISSING.value):
        return False
    limits = _limits(user)
    runtime.update_limits(row.engine_id or row.name, limits.mem_limit_mb, limits.cpu_limit)
    return True


def _remove_container(runtime: ContainerRuntime, username: str, row: Container, *, actor: str, ip: str | None) -> None:
    """Remove the container and its row; the caller holds the user's lock."""
    with panel_action(row.name):
        runtime.remove(row.engine_id or row.name)
    faults.reached("delete.container_removed")
    with session_scope() as session:
        session.delete(session.get(Container, row.id))
        activity.record(activity.Action.REMOVE_CONTAINER, actor=actor, target=username, ip=ip, session=session)


def deprovision(username: str, *, actor: str, ip: str | None = None, runtime: ContainerRuntime | None = None) -> None:
    """Remove `username`'s container and its row (the activity log keeps the history); their data stays."""
    runtime = runtime or get_runtime()
    with user_lock(username):  # the lock provision() holds: a delete never interleaves with a create
        user, row = user_and_row(username)
        if row is not None:
            _remove_container(runtime, username, row, actor=actor, ip=ip)


def _forget_storage_usage(user_id: int) -> None:
    """The files are gone: the last measure (which may keep an app stopped) goes with them."""
    with session_scope() as session:
        user = session.get(User, user_id)
        if user is not None:
            user.storage_used_bytes, user.storage_measured_at, user.storage_warned = None, None, False


def remove_data(username: str, *, actor: str, ip: str | None = None, runtime: ContainerRuntime | None = None) -> bool:
    """Remove `username`'s container, then their volume with every file in /data (a volume in use
    cannot go); False when they had no volume. The account stays."""
    runtime = runtime or get_runtime()
    with user_lock(username):
        user, row = user_and_row(username)
        if row is not None:
            _remove_container(runtime, username, row, actor=actor, ip=ip)
        volume = data_volume(user)
        removed = runtime.remove_volume(volume)
    if removed:
        _forget_storage_usage(user.id)
        activity.record(activity.Action.REMOVE_DATA, actor=actor, target=username, ip=ip, details=f"volume {volume.name} and every file in {volume.path}")
    return removed
