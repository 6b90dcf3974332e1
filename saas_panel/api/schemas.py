"""Request and response models. Field constraints turn bad input into 422 with a message per field."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

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


class ContainerOut(BaseModel):
    id: int
    name: str
    owner: str
    image: str
    state: str
    host_port: int | None
    engine_id: str | None
    created_at: datetime | None
    started_at: datetime | None
    error: str | None


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


class UserOut(BaseModel):
    id: int
    username: str
    email: str
    role: str
    is_active: bool
    created_at: str
    last_login_at: str
    container_state: str
    mem_limit_mb: int | None
    cpu_limit: float | None


class ContainerRowOut(BaseModel):
    id: int
    name: str
    owner: str
    image: str
    state: str
    host_port: str
    created_at: str
    started_at: str
    error: str


class ActivityOut(BaseModel):
    id: int
    time: str
    actor: str
    action: str
    target: str
    ip: str
    outcome: str
    details: str


class PageOut(BaseModel):
    total: int
    page: int
    per_page: int
    pages: int


class UserPage(PageOut):
    items: list[UserOut]


class ContainerPage(PageOut):
    items: list[ContainerRowOut]


class ActivityPage(PageOut):
    items: list[ActivityOut]


class ActionOut(BaseModel):
    container_id: int
    name: str
    action: str


def day_text(day: date | None) -> str:
    return day.isoformat() if day else ""
