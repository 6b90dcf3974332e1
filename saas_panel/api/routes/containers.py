"""Containers: list, detail, start / stop / restart, delete."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request

from saas_panel.api.deps import Caller, admin_caller, client_ip, token_caller
from saas_panel.api.paging import PageNumber, PerPage, page_out
from saas_panel.api.schemas import DB_INT_MAX, ActionOut, ContainerPage, ContainerStateName, SearchText
from saas_panel.services import containers
from saas_panel.services.provisioning import CONTROL_ACTIONS, ContainerAction

router = APIRouter(prefix="/api/containers", tags=["containers"])
ContainerId = Annotated[int, Path(ge=1, le=DB_INT_MAX)]
NOT_FOUND = {404: {"description": "No such container"}}


@router.get("", response_model=ContainerPage)
def list_containers(
    caller: Caller = Depends(token_caller),
    search: Annotated[SearchText, Query()] = "",
    state: Literal["all"] | ContainerStateName = "all",
    owner: Annotated[SearchText, Query()] = "",
    image: Annotated[SearchText, Query()] = "",
    node: Annotated[SearchText, Query()] = "",
    sort: Literal[tuple(containers.CONTAINER_SORTS)] = "created_at",  # type: ignore[valid-type]
    descending: bool = True,
    page: PageNumber = 1,
    per_page: PerPage = 25,
) -> ContainerPage:
    result = containers.list_containers(
        containers.ContainerQuery(search=search, state=state, owner=owner, image=image, node=node, sort=sort, descending=descending, page=page, per_page=per_page)
    )
    return page_out(ContainerPage, result)


@router.get("/{container_id}", response_model=containers.ContainerRow, responses=NOT_FOUND)
def get_container(container_id: ContainerId, caller: Caller = Depends(token_caller)) -> containers.ContainerRow:
    return containers.get(container_id)


@router.post("/{container_id}/{action}", response_model=ActionOut, responses=NOT_FOUND)
def act(
    container_id: ContainerId,
    action: Literal[tuple(a.value for a in CONTROL_ACTIONS)],  # type: ignore[valid-type]
    request: Request,
    caller: Caller = Depends(admin_caller),
) -> ActionOut:
    name = containers.act(caller.user, container_id, action, ip=client_ip(request))
    return ActionOut(container_id=container_id, name=name, action=action)


@router.delete("/{container_id}", response_model=ActionOut, responses=NOT_FOUND)
def delete(container_id: ContainerId, request: Request, caller: Caller = Depends(admin_caller)) -> ActionOut:
    name = containers.act(caller.user, container_id, ContainerAction.DELETE, ip=client_ip(request))
    return ActionOut(container_id=container_id, name=name, action=ContainerAction.DELETE.value)
