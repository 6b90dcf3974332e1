"""The admin's plans: the table, one form to create or edit a plan (its image picked from the engine's), and the default."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import reflex as rx

from saas_panel import presentation
from saas_panel.errors import DomainError, NotFound, ValidationError
from saas_panel.services import image_check, plans
from saas_panel.services.activity import Action
from saas_panel.services.auth import CurrentUser
from saas_panel.state.admin.base import AdminBase, admin_event
from saas_panel.state.admin.table import ScreenState

OTHER_IMAGE = "other image"  # the image menu's free-text choice (it has a space: never an image's name)
PLAN_FIELDS = ("name", "image", "cpu_limit", "mem_limit_mb", "storage_mb", "idle_stop_minutes")


def _form_value(value) -> str:
    if value is None:
        return ""
    return f"{value:g}" if isinstance(value, float) else str(value)


def _as_input(plan: plans.PlanView, **changes) -> plans.PlanInput:
    return plans.PlanInput(**{field.name: getattr(plan, field.name) for field in dataclasses.fields(plans.PlanInput)} | changes)


def _from_form(form_data: dict, is_default: bool) -> plans.PlanInput:
    """The form's plan; the image is the menu's choice, or the text typed under "Other image"."""
    values = {field: form_data.get(field) for field in PLAN_FIELDS}
    if values["image"] == OTHER_IMAGE:
        values["image"] = form_data.get("image_other")
    return plans.PlanInput(**values, is_default=is_default)


class PlansState(ScreenState, AdminBase):
    VIEW_ACTION: ClassVar[Action] = Action.VIEW_PLANS

    rows: list[dict] = []
    loaded: bool = False  # the table shows a spinner until the first load
    # The form, for a new plan (editing_id 0: a copy of the default plan's values) or an existing one.
    draft: dict[str, str] = {}
    editing_id: int = 0
    images: list[str] = []
    images_error: str = ""  # why the engine's images are not listed (the image is typed then)
    image_choice: str = ""
    field_errors: dict[str, str] = {}  # a field's name: what is wrong with it
    form_error: str = ""  # what does not concern one field
    create_open: bool = False
    edit_open: bool = False

    def _clear(self) -> None:
        self.rows, self.loaded = [], False
        self.draft, self.editing_id, self.images, self.image_choice = {}, 0, [], ""
        self.field_errors, self.form_error = {}, ""
        self.create_open = self.edit_open = False

    async def _refresh(self) -> None:
        self._show(await self._run(plans.list_plans))

    def _show(self, views: list[plans.PlanView]) -> None:
        self.rows = [presentation.plan_row(view) for view in views]
        self.loaded = True

    async def _fill_form(self, plan_id: int | None) -> None:
        """The form with plan `plan_id`'s values, or (None) the default plan's without its name, and
        the engine's images listed now (one may have been built since the page opened)."""
        views = await self._run(plans.list_plans)
        self._show(views)
        plan = next((view for view in views if (view.is_default if plan_id is None else view.id == plan_id)), None)
        if plan is None:
            raise NotFound("This plan does not exist.")
        self.draft = {field: _form_value(getattr(plan, field)) for field in PLAN_FIELDS} | ({"name": ""} if plan_id is None else {})
        self.editing_id = plan.id if plan_id is not None else 0
        try:
            self.images, self.images_error = await self._run(image_check.engine_images), ""
        except DomainError as exc:
            self.images, self.images_error = [], f"The engine's images could not be listed ({exc}): type the image."
        self.image_choice = plan.image if plan.image in self.images else OTHER_IMAGE
        self.field_errors, self.form_error = {}, ""

    async def _saved(self, save, *args) -> plans.PlanView | None:
        """What `save` returns; None when a field is wrong, its message then shown under it.
        Any other error propagates (the form shows it above the fields)."""
        self.field_errors = {}
        try:
            return await self._run(save, *args)
        except ValidationError as exc:
            if exc.field not in PLAN_FIELDS:
                raise
            self.field_errors = {exc.field: str(exc)}
            return None

    @admin_event(Action.CREATE_PLAN)
    async def open_create(self, open_: bool):
        if open_:
            await self._fill_form(None)
        self.create_open = bool(open_)

    @admin_event(Action.UPDATE_PLAN, busy="edit:{plan_id}")
    async def open_edit(self, plan_id: int):
        await self._fill_form(plan_id)
        self.edit_open = True

    @admin_event(Action.UPDATE_PLAN)
    async def set_edit_open(self, open_: bool):
        self.edit_open = bool(open_) and self.editing_id > 0

    @admin_event()
    async def choose_image(self, value: str):
        self.image_choice = str(value)[: plans.IMAGE_MAX_CHARS]

    @admin_event(Action.CREATE_PLAN, busy="create", error_var="form_error")
    async def create_plan(self, admin: CurrentUser, form_data: dict):
        created = await self._saved(plans.create_plan, admin, _from_form(form_data, is_default=False), self._client_ip())
        if created is None:
            return None
        self.create_open = False
        await self._refresh()
        return rx.toast.success(f"Plan {created.name} created.")

    @admin_event(Action.UPDATE_PLAN, busy="save", error_var="form_error")
    async def update_plan(self, admin: CurrentUser, form_data: dict):
        plan_id = self.editing_id  # the plan the form was opened for, not a form field
        stored = await self._run(plans.get_plan, plan_id)  # the default is changed by "Make default" only
        saved = await self._saved(plans.update_plan, admin, plan_id, _from_form(form_data, stored.is_default), self._client_ip())
        if saved is None:
            return None
        self.edit_open = False
        await self._refresh()
        return rx.toast.success(f"Plan {saved.name} saved: its users get it when their container is next made.")

    @admin_event(Action.UPDATE_PLAN, busy="default:{plan_id}")
    async def make_default(self, admin: CurrentUser, plan_id: int):
        plan = await self._run(plans.get_plan, plan_id)
        await self._run(plans.update_plan, admin, plan.id, _as_input(plan, is_default=True), self._client_ip())
        await self._refresh()
        return rx.toast.success(f"{plan.name} is now the default plan.")
