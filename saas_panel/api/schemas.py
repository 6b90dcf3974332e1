"""Request and response models. Field constraints turn bad input into 422 with a message per field.

Where an answer is a service's row (a dataclass), the row is the schema: its datetimes go out as ISO 8601.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic.fields import FieldInfo

from saas_panel.services.activity import ActivityRow
from saas_panel.services.containers import ContainerRow
from saas_panel.services.plans import IDLE_RANGE_MINUTES, IMAGE_MAX_CHARS, NAME_MAX_CHARS, STORAGE_RANGE_MB, UserPlan
from saas_panel.services.users import UserRow
from saas_panel.services.validation import CPU_LIMIT_RANGE, EMAIL_MAX_CHARS, MEM_LIMIT_RANGE_MB, USERNAME_RE

USERNAME_PATTERN = r"^[a-z0-9_-]{3,32}$"  # any existing account (older ones may hold '_')
PLAIN_TEXT_PATTERN = r"^[^\x00-\x1f\x7f]*$"  # no control characters
DB_INT_MAX = 2**31 - 1  # ids and page numbers beyond this cannot exist (and would overflow SQL integers)

Username = Annotated[str, StringConstraints(pattern=USERNAME_RE.pattern)]  # a new account: a valid host label
SearchText = Annotated[str, StringConstraints(max_length=100, pattern=PLAIN_TEXT_PATTERN)]
FilterText = Annotated[str, StringConstraints(max_length=128, pattern=PLAIN_TEXT_PATTERN)]
ContainerStateName = Literal["provisioning", "running", "stopped", "error", "missing"]


def within(bounds: tuple) -> FieldInfo:
    return Field(ge=bounds[0], le=bounds[1])


PlanName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX_CHARS, pattern=PLAIN_TEXT_PATTERN)]
ImageRef = Annotated[str, StringConstraints(min_length=1, max_length=IMAGE_MAX_CHARS, pattern=r"^[^\s\x00-\x1f\x7f]+$")]
Cpus = Annotated[float, within(CPU_LIMIT_RANGE)]
MemoryMb = Annotated[int, within(MEM_LIMIT_RANGE_MB)]
StorageMb = Annotated[int, within(STORAGE_RANGE_MB)]
IdleMinutes = Annotated[Annotated[float, within(IDLE_RANGE_MINUTES)] | None, Field(description="null: the panel's idle setting; 0: never")]
# Numbers must be JSON numbers and flags JSON booleans ("2" is refused, not read as 2).
STRICT_BODY = ConfigDict(extra="forbid", strict=True)


class ProvisionRequest(BaseModel):
    username: Username = Field(description="3-32 of a-z, 0-9 and '-', not starting or ending with '-'")
    email: Annotated[str, StringConstraints(min_length=3, max_length=EMAIL_MAX_CHARS, pattern=r"^[^@\s<>\"']{1,64}@[^@\s]+$")]

    model_config = {"extra": "forbid"}


class PlanCreate(BaseModel):
    name: PlanName
    image: ImageRef = Field(description="name:tag of an image already on the engine (the panel never pulls)")
    cpu_limit: Cpus
    mem_limit_mb: MemoryMb
    storage_mb: StorageMb
    idle_stop_minutes: IdleMinutes = None
    is_default: bool = False

    model_config = STRICT_BODY


class PlanPatch(BaseModel):
    """Only the fields given change. Defaults are not validated, so a field left out stays None
    while an explicit null is refused: only idle_stop_minutes may be null."""

    name: PlanName = None
    image: ImageRef = None
    cpu_limit: Cpus = None
    mem_limit_mb: MemoryMb = None
    storage_mb: StorageMb = None
    idle_stop_minutes: IdleMinutes = None
    is_default: bool = None

    model_config = STRICT_BODY


class PlanChoice(BaseModel):
    plan_id: int = Field(ge=1, le=DB_INT_MAX)

    model_config = STRICT_BODY


class PlanChangeOut(BaseModel):
    message: str
    user_plan: UserPlan


class ProvisionOut(BaseModel):
    username: str
    container_id: int
    engine_id: str | None
    port: int | None
    state: str
    created: bool


class PortOut(BaseModel):
    username: str
    port: int | None  # a loopback host port, only when SAAS_PANEL_BIND_HOST publishes one
    state: str
    app_url: str  # where the owner opens the app, through the edge


class Stats(BaseModel):
    users_total: int
    users_active: int
    containers_total: int
    containers: dict[str, int]
    cpu_percent: float
    mem_bytes: int
    sampled_containers: int
    engine_ok: bool


class PageOut(BaseModel):
    total: int
    page: int
    per_page: int
    pages: int


class UserPage(PageOut):
    items: list[UserRow]


class ContainerPage(PageOut):
    items: list[ContainerRow]


class ActivityPage(PageOut):
    items: list[ActivityRow]


class ActionOut(BaseModel):
    container_id: int
    name: str
    action: str


def day_text(day: date | None) -> str:
    return day.isoformat() if day else ""


class AlertRuleCreate(BaseModel):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=PLAIN_TEXT_PATTERN)]
    metric: Literal["cpu", "memory", "storage"] = Field(description="cpu: % of one core; memory: % of the limit; storage: % of the plan's quota")
    threshold: float = Field(gt=0, le=6400, description="fires above this percent (memory and storage: at most 100)")
    for_seconds: int = Field(default=0, ge=0, le=86_400)
    scope: Literal["everyone", "user", "plan"] = "everyone"
    scope_target: Annotated[str, StringConstraints(max_length=64, pattern=PLAIN_TEXT_PATTERN)] = Field(default="", description="the username (scope user) or plan name (scope plan)")
    webhook_url: Annotated[str, StringConstraints(max_length=500, pattern=PLAIN_TEXT_PATTERN)] = Field(default="", description="optional http(s) URL; its signing secret is in the answer, once")
    enabled: bool = True

    model_config = STRICT_BODY


class AlertRuleOut(BaseModel):
    """A rule as the API shows it: its webhook's host, never the URL or the secret."""

    id: int
    name: str
    metric: str
    threshold: float
    for_seconds: int
    scope: str
    scope_target: str
    webhook_host: str
    enabled: bool


class AlertRuleCreated(BaseModel):
    rule: AlertRuleOut
    webhook_secret: str = Field(description="signs each webhook body (X-SaaS-Panel-Signature: sha256=...); shown only here")
