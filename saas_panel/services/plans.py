"""Plans: what operators offer (image, CPU, memory, storage, idle timeout), one of them the default.

A user's plan is `users.plan_id`, or the default plan when that is empty (new accounts,
accounts from before plans). Per-user memory and CPU set by an admin still win over the plan's.
A plan's image must be on the engine and answer on the app port before it is saved
(`image_check.check_image`): the panel never pulls, and a plan nobody can start is no plan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from saas_panel.config import get_settings
from saas_panel.db import session_scope
from saas_panel.errors import Conflict, NotFound, QuotaBelowUsage, ValidationError
from saas_panel.models import Plan, User, utcnow
from saas_panel.services import activity, image_check
from saas_panel.services.auth import CurrentUser
from saas_panel.services.validation import CPU_LIMIT_RANGE, MEM_LIMIT_RANGE_MB, check_number, check_text

DEFAULT_PLAN_NAME = "Standard"
NAME_MAX_CHARS = 40
IMAGE_MAX_CHARS = 200
STORAGE_RANGE_MB = (16, 1024 * 1024)
IDLE_RANGE_MINUTES = (0, 60 * 24 * 365)
MB = 1024 * 1024
# An image reference as the engine parses it: [registry[:port]/]path[:tag][@digest], lowercase path.
IMAGE_REFERENCE = re.compile(
    r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$"
)


@dataclass(frozen=True)
class PlanView:
    id: int
    name: str
    image: str
    cpu_limit: float
    mem_limit_mb: int
    storage_mb: int
    idle_stop_minutes: float | None  # None: the panel's setting
    is_default: bool
    users: int = 0


@dataclass(frozen=True)
class PlanInput:
    """A plan as a form or an API call gives it (text or numbers), checked by `validated()`."""

    name: object = ""
    image: object = ""
    cpu_limit: object = None
    mem_limit_mb: object = None
    storage_mb: object = None
    idle_stop_minutes: object = None  # blank: the panel's setting
    is_default: bool = False

    def validated(self) -> PlanInput:
        name = check_text("name", "Name", self.name).strip()
        if not 1 <= len(name) <= NAME_MAX_CHARS:
            raise ValidationError("name", f"A plan's name has 1 to {NAME_MAX_CHARS} characters.")
        image = check_text("image", "Image", self.image).strip()
        if len(image) > IMAGE_MAX_CHARS or not IMAGE_REFERENCE.match(image):
            raise ValidationError("image", "Give the image as name:tag (lowercase name, no spaces), e.g. saas-panel/user-dashboard:latest.")
        values = {
            "cpu_limit": check_number(self.cpu_limit, float, CPU_LIMIT_RANGE, "CPUs", "cpu_limit"),
            "mem_limit_mb": check_number(self.mem_limit_mb, int, MEM_LIMIT_RANGE_MB, "Memory (MB)", "mem_limit_mb"),
            "storage_mb": check_number(self.storage_mb, int, STORAGE_RANGE_MB, "Storage (MB)", "storage_mb"),
        }
        for field, value in values.items():
            if value is None:
                raise ValidationError(field, "Every plan needs CPUs, memory and storage.")
        idle = check_number(self.idle_stop_minutes, float, IDLE_RANGE_MINUTES, "Idle stop (minutes)", "idle_stop_minutes")
        return replace(self, name=name, image=image, idle_stop_minutes=idle, is_default=bool(self.is_default), **values)


@dataclass(frozen=True)
class Limits:
    """What one user's container gets: their plan, with an admin's per-user memory and CPU on top."""

    plan_id: int
    plan_name: str
    image: str
    mem_limit_mb: int
    cpu_limit: float
    storage_mb: int
    idle_stop_minutes: float  # 0: never

    @property
    def idle_timeout(self) -> timedelta | None:
        return timedelta(minutes=self.idle_stop_minutes) if self.idle_stop_minutes > 0 else None


def _view(plan: Plan, users: int = 0) -> PlanView:
    return PlanView(plan.id, plan.name, plan.image, plan.cpu_limit, plan.mem_limit_mb, plan.storage_mb,
                    plan.idle_stop_minutes, plan.is_default, users)


def _make_default(session: Session) -> Plan:
    """The default plan, made from the settings when there is none (first start, upgrade, a
    database made without the panel's start-up); a savepoint lets a concurrent maker win."""
    settings = get_settings()
    plan = session.exec(select(Plan).where(Plan.is_default)).first() or session.exec(select(Plan).order_by(Plan.id)).first()
    if plan is not None:
        plan.is_default = True
        return plan
    plan = Plan(name=DEFAULT_PLAN_NAME, image=settings.user_image, cpu_limit=settings.default_cpu_limit,
                mem_limit_mb=settings.default_mem_limit_mb, storage_mb=settings.default_storage_mb, is_default=True)
    try:
        with session.begin_nested():
            session.add(plan)
    except IntegrityError:
        return session.exec(select(Plan).where(Plan.is_default)).one()
    activity.record(activity.Action.CREATE_PLAN, actor=activity.SYSTEM_ACTOR, target=DEFAULT_PLAN_NAME,
                    details="the default plan, from the settings", session=session, target_is_account=False)
    return plan


def ensure_default() -> None:
    with session_scope() as session:
        _make_default(session)


def default_plan(session: Session) -> Plan:
    return session.exec(select(Plan).where(Plan.is_default)).first() or _make_default(session)


def plan_of(session: Session, user: User) -> Plan:
    return (session.get(Plan, user.plan_id) if user.plan_id else None) or default_plan(session)


def limits_of(session: Session, user: User) -> Limits:
    return limits_on(plan_of(session, user), user)


def limits_on(plan: Plan, user: User) -> Limits:
    """What `user` gets on `plan`."""
    idle = plan.idle_stop_minutes if plan.idle_stop_minutes is not None else get_settings().idle_stop_minutes
    return Limits(plan.id, plan.name, plan.image, user.mem_limit_mb or plan.mem_limit_mb, user.cpu_limit or plan.cpu_limit,
                  plan.storage_mb, idle)


@dataclass(frozen=True)
class UserPlan:
    """A user's plan as it applies to them, with what their /data was last measured to use."""

    user_id: int
    username: str
    limits: Limits
    storage_used_bytes: int | None  # None: not measured yet
    storage_measured_at: datetime | None


def _user_named(session: Session, username: str) -> User:
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound("This user does not exist.")
    return user


def limits_for(username: str) -> Limits:
    with session_scope() as session:
        return limits_of(session, _user_named(session, username))


def user_plan(username: str) -> UserPlan:
    with session_scope() as session:
        user = _user_named(session, username)
        return UserPlan(user.id, user.username, limits_of(session, user), user.storage_used_bytes, user.storage_measured_at)


def list_plans() -> list[PlanView]:
    """Every plan with how many users it has (the default counts the users without a plan)."""
    with session_scope() as session:
        plans = session.exec(select(Plan).order_by(Plan.name)).all()
        counts = dict(session.exec(select(User.plan_id, func.count()).group_by(User.plan_id)).all())
        return [_view(plan, counts.get(plan.id, 0) + (counts.get(None, 0) if plan.is_default else 0)) for plan in plans]


def get_plan(plan_id: int) -> PlanView:
    for plan in list_plans():
        if plan.id == plan_id:
            return plan
    raise NotFound("This plan does not exist.")


def _largest_usage(session: Session, plan: Plan) -> int:
    """The most storage any user of `plan` was last measured to use."""
    members = User.plan_id == plan.id
    if plan.is_default:
        members = members | User.plan_id.is_(None)
    return session.exec(select(func.coalesce(func.max(User.storage_used_bytes), 0)).where(members)).one()


def _unset_other_defaults(session: Session, keep: Plan) -> None:
    for other in session.exec(select(Plan).where(Plan.is_default, Plan.id != keep.id)).all():
        other.is_default = False


def _save(session: Session, plan: Plan, data: PlanInput) -> None:
    plan.name, plan.image, plan.cpu_limit, plan.mem_limit_mb = data.name, data.image, data.cpu_limit, data.mem_limit_mb
    plan.storage_mb, plan.idle_stop_minutes, plan.updated_at = data.storage_mb, data.idle_stop_minutes, utcnow()
    plan.is_default = plan.is_default or data.is_default
    try:
        session.flush()  # before the others are read: a new plan has no id until then
    except IntegrityError:
        raise ValidationError("name", "Another plan has this name.") from None
    if plan.is_default:
        _unset_other_defaults(session, plan)


def _described(data: PlanInput) -> str:
    idle = "the panel's idle stop" if data.idle_stop_minutes is None else f"idle stop {data.idle_stop_minutes:g} min"
    return f"{data.image}, {data.cpu_limit:g} CPU, {data.mem_limit_mb} MB, {data.storage_mb} MB storage, {idle}" + (", default" if data.is_default else "")


def create_plan(admin: CurrentUser, raw: PlanInput, ip: str | None = None) -> PlanView:
    data = raw.validated()
    image_check.check_image(data.image)
    with session_scope() as session:
        default_plan(session)  # the settings' plan first: a first plan made by an admin is not the default unless asked
        plan = Plan(name=data.name, image=data.image, cpu_limit=data.cpu_limit, mem_limit_mb=data.mem_limit_mb, storage_mb=data.storage_mb)
        session.add(plan)
        _save(session, plan, data)
        activity.record(activity.Action.CREATE_PLAN, actor=admin.username, target=plan.name, ip=ip, details=_described(data),
                        session=session, target_is_account=False)
        return _view(plan)


def update_plan(admin: CurrentUser, plan_id: int, raw: PlanInput, ip: str | None = None) -> PlanView:
    """Change a plan; its users get the new image and limits when their container is next made
    (an admin's plan change, or a recreation). A storage size below a member's usage is refused."""
    data = raw.validated()
    with session_scope() as session:
        plan = session.get(Plan, plan_id)
        if plan is None:
            raise NotFound("This plan does not exist.")
        image_changed = plan.image != data.image
        if plan.is_default and not data.is_default:
            raise Conflict("One plan is always the default: make another plan the default instead.")
        used = _largest_usage(session, plan)
    if used > data.storage_mb * MB:
        raise QuotaBelowUsage(used, data.storage_mb)
    if image_changed:
        image_check.check_image(data.image)
    with session_scope() as session:
        plan = session.get(Plan, plan_id)
        if plan is None:
            raise NotFound("This plan does not exist.")
        _save(session, plan, data)
        activity.record(activity.Action.UPDATE_PLAN, actor=admin.username, target=plan.name, ip=ip, details=_described(data),
                        session=session, target_is_account=False)
        return _view(plan)
