"""Plans: list, one plan, create, change; and a user's plan, which an admin can move them off."""

from __future__ import annotations

from dataclasses import fields
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from saas_panel.api.deps import Caller, admin_caller, client_ip, token_caller
from saas_panel.api.routes.users import UsernamePath
from saas_panel.api.schemas import DB_INT_MAX, PlanChangeOut, PlanChoice, PlanCreate, PlanPatch
from saas_panel.services import plan_change, plans

router = APIRouter(prefix="/api", tags=["plans"])
PlanId = Annotated[int, Path(ge=1, le=DB_INT_MAX)]
NO_PLAN = {404: {"description": "No such plan"}}
NO_USER_OR_PLAN = {404: {"description": "No such user or plan"}}


@router.get("/plans", response_model=list[plans.PlanView])
def list_plans(caller: Caller = Depends(token_caller)) -> list[plans.PlanView]:
    """Every plan with its number of users (the default plan counts the users without one)."""
    return plans.list_plans()


@router.get("/plans/{plan_id}", response_model=plans.PlanView, responses=NO_PLAN)
def get_plan(plan_id: PlanId, caller: Caller = Depends(token_caller)) -> plans.PlanView:
    return plans.get_plan(plan_id)


@router.post("/plans", response_model=plans.PlanView, status_code=201)
def create_plan(body: PlanCreate, request: Request, caller: Caller = Depends(admin_caller)) -> plans.PlanView:
    """The image must be on the engine and answer on the app port (a trial container is started)."""
    return plans.create_plan(caller.user, plans.PlanInput(**body.model_dump()), ip=client_ip(request))


@router.patch("/plans/{plan_id}", response_model=plans.PlanView, responses=NO_PLAN)
def update_plan(plan_id: PlanId, body: PlanPatch, request: Request, caller: Caller = Depends(admin_caller)) -> plans.PlanView:
    """Fields left out keep their value. Users get the change when their container is next made."""
    stored = plans.get_plan(plan_id)
    current = {field.name: getattr(stored, field.name) for field in fields(plans.PlanInput)}
    changed = plans.PlanInput(**{**current, **body.model_dump(exclude_unset=True)})
    return plans.update_plan(caller.user, plan_id, changed, ip=client_ip(request))


@router.get("/users/{username}/plan", response_model=plans.UserPlan, responses={404: {"description": "No such user"}})
def get_user_plan(username: UsernamePath, caller: Caller = Depends(token_caller)) -> plans.UserPlan:
    """The user's plan with their own memory and CPU on top, and their storage as last measured."""
    return plans.user_plan(username)


@router.put("/users/{username}/plan", response_model=PlanChangeOut, responses=NO_USER_OR_PLAN)
def change_user_plan(username: UsernamePath, body: PlanChoice, request: Request, caller: Caller = Depends(admin_caller)) -> PlanChangeOut:
    """Recreates the user's container on the plan (it must answer before the old one goes): can take tens of seconds."""
    user_id = plans.user_plan(username).user_id
    message = plan_change.change_plan(caller.user, user_id, body.plan_id, ip=client_ip(request))
    return PlanChangeOut(message=message, user_plan=plans.user_plan(username))
