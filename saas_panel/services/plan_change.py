"""Moving a user to another plan: a new container on the plan's image and limits, the same volume.

Nothing is half done: the new container is made beside the old one (`<name>-next`) and must
answer on the app port; only then is the new plan committed (with the row in `provisioning`),
the old container removed and the new one given its name. If it fails to answer, it goes and the
old one keeps running. A process that dies before the commit leaves a `-next` that the next start
removes; one that dies after it, a move that the next start finishes (services/recovery.py).
Where the engine caps storage, another size needs the file system unmounted (a shrink always; a
grow where the kernel refuses it mounted), so the old container is stopped first (and, on failure,
its volume set back and it started again).
"""

from __future__ import annotations

from saas_panel import faults
from saas_panel.db import session_scope
from saas_panel.errors import ContainerNotFound, DomainError, EngineError, NotFound, QuotaBelowUsage, ValidationError
from saas_panel.models import Container, ContainerState, Outcome, Plan, User, utcnow
from saas_panel.runtime import ContainerInfo, ContainerRuntime, get_runtime
from saas_panel.services import activity, app_access, plans, provisioning
from saas_panel.services.auth import CurrentUser
from saas_panel.services.image_check import wait_until_answers

NEXT_SUFFIX = "-next"


def _load(user_id: int, plan_id: int) -> tuple[User, Plan, plans.Limits]:
    with session_scope() as session:
        user, plan = session.get(User, user_id), session.get(Plan, plan_id)
        if user is None:
            raise NotFound("This user no longer exists.")
        if plan is None:
            raise NotFound("This plan does not exist.")
        return user, plan, plans.limits_of(session, user)


def _current(runtime: ContainerRuntime, name: str) -> ContainerInfo | None:
    try:
        return runtime.inspect(name)
    except ContainerNotFound:
        return None


def _remove_quietly(runtime: ContainerRuntime, name_or_id: str) -> None:
    try:
        runtime.remove(name_or_id)
    except DomainError:
        pass


def _restore(runtime: ContainerRuntime, user: User, old: ContainerInfo, storage_mb: int) -> None:
    """After a failed move with the old container stopped: its volume back at its size, it as it was."""
    try:
        runtime.resize_volume(provisioning.data_volume(user, storage_mb))
    finally:
        if old.running:
            runtime.start(old.id)


def _start_next(runtime: ContainerRuntime, user: User, limits: plans.Limits, old: ContainerInfo, old_storage_mb: int) -> ContainerInfo:
    """The new container answering beside the old one, or an error with the old one as it was."""
    next_name = old.name + NEXT_SUFFIX
    _remove_quietly(runtime, next_name)  # left by an attempt that died with its process
    volume = provisioning.data_volume(user, limits.storage_mb)
    unmount_first = runtime.storage_enforced and limits.storage_mb != old_storage_mb
    if unmount_first:
        runtime.stop(old.id)
    new = None
    try:
        runtime.resize_volume(volume)
        new = runtime.create(provisioning.user_spec(next_name, user, limits))
        wait_until_answers(runtime, new)
    except DomainError as exc:
        if new is not None:
            _remove_quietly(runtime, new.id)
        if unmount_first:
            _restore(runtime, user, old, old_storage_mb)
        raise EngineError(f"The new container did not start ({exc}); the app stays on its old plan.") from None
    return new


def _commit(user: User, plan: Plan, row_id: int | None, *, actor: str, ip: str | None, details: str) -> None:
    """The move's point of no return: the new plan, and the container row in `provisioning` until
    the new container has taken the old one's name (a crash after this is finished forward)."""
    with session_scope() as session:
        stored = session.get(User, user.id)
        if stored is None:
            raise NotFound("This user no longer exists.")
        stored.plan_id = plan.id
        row = session.get(Container, row_id) if row_id is not None else None
        if row is not None:
            row.state, row.updated_at = ContainerState.PROVISIONING.value, utcnow()
        activity.record(activity.Action.CHANGE_PLAN, actor=actor, target=user.username, ip=ip, details=details, session=session)


def finish_move(runtime: ContainerRuntime, name: str, new: ContainerInfo, keep_running: bool = True) -> ContainerInfo:
    """After `_commit`: the old container `name` goes and `new` (its `-next`) takes its name."""
    runtime.remove(name)
    faults.reached("plan_change.old_removed")
    new = runtime.rename(new.id, name)
    return new if keep_running else runtime.stop(new.id)


def leftover_next(runtime: ContainerRuntime, name: str) -> ContainerInfo | None:
    """The new container of a move that `name`'s process did not finish, if there is one."""
    return _current(runtime, name + NEXT_SUFFIX)


def undo_uncommitted(runtime: ContainerRuntime, user: User, name: str, storage_mb: int) -> ContainerInfo | None:
    """A move that died before `_commit`: its new container goes, and an old one it stopped to
    resize the volume gets the volume back at its plan's size and is started again (as `_restore`
    does; whether it ran before the move died with the process). Returns the old container."""
    runtime.remove(name + NEXT_SUFFIX)
    old = _current(runtime, name)
    if old is None or old.running or not runtime.storage_enforced:
        return old
    runtime.resize_volume(provisioning.data_volume(user, storage_mb))
    return runtime.start(old.id)


def _failed(user: User, exc: DomainError, *, actor: str, ip: str | None, details: str) -> None:
    activity.record(activity.Action.CHANGE_PLAN, actor=actor, target=user.username, ip=ip, outcome=Outcome.FAILURE, details=f"{details}: {exc}")


def _change_without_container(runtime: ContainerRuntime, user: User, plan: Plan, limits: plans.Limits, *,
                              actor: str, ip: str | None, details: str) -> None:
    try:
        runtime.resize_volume(provisioning.data_volume(user, limits.storage_mb))  # the next container gets the plan
    except DomainError as exc:
        _failed(user, exc, actor=actor, ip=ip, details=details)
        raise
    _commit(user, plan, None, actor=actor, ip=ip, details=details)


def _move(runtime: ContainerRuntime, user: User, plan: Plan, limits: plans.Limits, old: ContainerInfo, row_id: int,
          old_storage_mb: int, *, actor: str, ip: str | None, details: str) -> ContainerInfo:
    """The app moved to `plan`: a new container started, the plan committed, the new one in the old one's place."""
    try:
        new = _start_next(runtime, user, limits, old, old_storage_mb)
    except DomainError as exc:
        _failed(user, exc, actor=actor, ip=ip, details=details)
        raise
    faults.reached("plan_change.next_started")
    _commit(user, plan, row_id, actor=actor, ip=ip, details=details)
    faults.reached("plan_change.committed")
    return finish_move(runtime, old.name, new, keep_running=old.running)


def change_plan(admin: CurrentUser, user_id: int, plan_id: int, ip: str | None = None,
                runtime: ContainerRuntime | None = None) -> str:
    """Move a user to `plan_id`, recreating their container (if they have one) on it; returns what happened."""
    runtime = runtime or get_runtime()
    user, plan, before = _load(user_id, plan_id)
    if before.plan_id == plan.id:
        return f"{user.username} is already on {plan.name}."
    if (user.storage_used_bytes or 0) > plan.storage_mb * plans.MB:
        raise QuotaBelowUsage(user.storage_used_bytes, plan.storage_mb)
    if not runtime.image_exists(plan.image):
        raise ValidationError("plan", f"The image {plan.image} of {plan.name} is no longer on the engine.")
    limits = plans.limits_on(plan, user)
    details = f"{before.plan_name} -> {plan.name}"
    with provisioning.user_lock(user.username), provisioning.spawn_slots():
        _, row = provisioning.user_and_row(user.username)
        old = _current(runtime, row.engine_id or row.name) if row and row.state != ContainerState.PROVISIONING.value else None
        info = None
        if old is None:
            _change_without_container(runtime, user, plan, limits, actor=admin.username, ip=ip, details=details)
        else:
            with provisioning.panel_action(old.name), provisioning.panel_action(old.name + NEXT_SUFFIX):
                info = _move(runtime, user, plan, limits, old, row.id, before.storage_mb, actor=admin.username, ip=ip, details=details)
            provisioning.save_engine_state(row.id, info)
    app_access.forget_route(user.host_label)
    return f"{user.username} is now on {plan.name}" + ("; their app was recreated on it." if info else "; their next container uses it.")
