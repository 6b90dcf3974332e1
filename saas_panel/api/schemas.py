"""Request and response models. Field constraints turn bad input into 422 with a message per field.

Where an answer is a service's row (a dataclass), the row is the schema: its datetimes go out as ISO 8601.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from saas_panel.services.activity import ActivityRow
from saas_panel.services.containers import ContainerRow
from saas_panel.services.users import UserRow
from saas_panel.services.validation import EMAIL_MAX_CHARS, USERNAME_RE

USERNAME_PATTERN = r"^[a-z0-9_-]{3,32}$"  # any existing account (older ones may hold '_')
PLAIN_TEXT_PATTERN = r"^[^\x00-\x1f\x7f]*$"  # no control characters
DB_INT_MAX = 2**31 - 1  # ids and page numbers beyond this cannot exist (and would overflow SQL integers)

Username = Annotated[str, StringConstraints(pattern=USERNAME_RE.pattern)]  # a new account: a valid host label
SearchText = Annotated[str, StringConstraints(max_length=100, pattern=PLAIN_TEXT_PATTERN)]
FilterText = Annotated[str, StringConstraints(max_length=128, pattern=PLAIN_TEXT_PATTERN)]
ContainerStateName = Literal["provisioning", "running", "stopped", "error", "missing"]


class ProvisionRequest(BaseModel):
    username: Username = Field(description="3-32 of a-z, 0-9 and '-', not starting or ending with '-'")
    email: Annotated[str, StringConstraints(min_length=3, max_length=EMAIL_MAX_CHARS, pattern=r"^[^@\s<>\"']{1,64}@[^@\s]+$")]

    model_config = {"extra": "forbid"}


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
