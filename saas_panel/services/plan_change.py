"""Moving a user to another plan: a new container on the plan's image and limits, the same volume.

Nothing is half done: the new container is made beside the old one (`<name>-next`) and must
answer on the app port; only then is the old one removed and the new one takes its name. If
it fails, it goes and the old one keeps running. Where the engine caps storage, another size
needs the file system unmounted (a shrink always; a grow where the kernel refuses it mounted),
so the old container is stopped first (and, on failure, its volume set back and it started again).
"""

from __future__ import annotations

from saas_panel.db import session_scope
from saas_panel.errors import ContainerNotFound, DomainError, EngineError, NotFound, QuotaBelowUsage, ValidationError
from saas_panel.models import ContainerState, Outcome, Plan, User
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


def _replace(runtime: ContainerRuntime, user: User, limits: plans.Limits, old: ContainerInfo, old_storage_mb: int) -> ContainerInfo:
    """The new container answering under the old one's name, or an error with the old one as it was."""
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
    runtime.remove(old.id)
    new = runtime.rename(new.id, old.name)
    return new if old.running else runtime.stop(new.id)


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
        try:
            if old is None:
                runtime.resize_volume(provisioning.data_volume(user, limits.storage_mb))  # the next container gets the plan
                info = None
            else:
                with provisioning.panel_action(old.name), provisioning.panel_action(old.name + NEXT_SUFFIX):
                    info = _replace(runtime, user, limits, old, before.storage_mb)
        except DomainError as exc:
            activity.record(activity.Action.CHANGE_PLAN, actor=admin.username, target=user.username, ip=ip,
                            outcome=Outcome.FAILURE, details=f"{details}: {exc}")
            raise
        with session_scope() as session:
            stored = session.get(User, user.id)
            if stored is None:
                raise NotFound("This user no longer exists.")
            stored.plan_id = plan.id
            activity.record(activity.Action.CHANGE_PLAN, actor=admin.username, target=user.username, ip=ip, details=details, session=session)
        if info is not None:
            provisioning.save_engine_state(row.id, info)
    app_access.forget_route(user.host_label)
    return f"{user.username} is now on {plan.name}" + ("; their app was recreated on it." if info else "; their next container uses it.")
