"""Users: the list, one account, and a user's port (for its owner too)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query

from saas_panel.api.deps import Caller, token_caller, token_or_session_caller
from saas_panel.api.paging import PageNumber, PerPage, page_out
from saas_panel.api.schemas import USERNAME_PATTERN, FilterText, PortOut, SearchText, UserPage
from saas_panel.errors import NotFound
from saas_panel.services import app_access, provisioning, users

router = APIRouter(prefix="/api", tags=["users"])
UsernamePath = Annotated[str, Path(pattern=USERNAME_PATTERN)]
NOT_FOUND = "No such user, or not yours."


@router.get("/users", response_model=UserPage)
def list_users(
    caller: Caller = Depends(token_caller),
    search: Annotated[SearchText, Query()] = "",
    role: Literal["all", "admin", "user"] = "all",
    status: Literal["all", "active", "disabled"] = "all",
    container_state: Literal["all", "none", "provisioning", "running", "stopped", "error", "missing"] = "all",
    plan: Annotated[FilterText, Query(description="a plan's name; the default plan's includes the users without one")] = "",
    sort: Literal[tuple(users.USER_SORTS)] = "username",  # type: ignore[valid-type]
    descending: bool = False,
    page: PageNumber = 1,
    per_page: PerPage = 25,
) -> UserPage:
    result = users.search_users(
        users.UserQuery(search=search, role=role, status=status, container_state=container_state, plan=plan, sort=sort, descending=descending, page=page, per_page=per_page)
    )
    return page_out(UserPage, result)


@router.get("/users/{username}", response_model=users.UserRow, responses={404: {"description": "No such user"}})
def get_user(username: UsernamePath, caller: Caller = Depends(token_caller)) -> users.UserRow:
    row = users.find_user(username)
    if row is None:
        raise HTTPException(status_code=404, detail="No such user.")
    return row


@router.get("/user/{username}/port", response_model=PortOut, responses={404: {"description": NOT_FOUND}})
def user_port(username: UsernamePath, caller: Caller = Depends(token_or_session_caller)) -> PortOut:
    """The owner (with their panel session token) or an admin token. Anyone else gets the same 404 as for an unknown name."""
    if not caller.is_admin and caller.user.username != username:
        raise HTTPException(status_code=404, detail=NOT_FOUND)
    try:
        view = provisioning.status(username)
    except NotFound:
        view = None
    if view is None:
        raise HTTPException(status_code=404, detail=NOT_FOUND)
    return PortOut(username=username, port=view.host_port, state=view.state, app_url=app_access.app_url(view.host_label, view.host_port))
