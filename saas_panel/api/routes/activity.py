"""GET /api/activity: the audit log, newest first, filtered and paged."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from saas_panel.api.deps import Caller, token_caller
from saas_panel.api.paging import PageNumber, PerPage, page_out
from saas_panel.api.schemas import ActivityPage, FilterText, SearchText, day_text
from saas_panel.services import activity

router = APIRouter(prefix="/api", tags=["activity"])


@router.get("/activity", response_model=ActivityPage)
def list_activity(
    caller: Caller = Depends(token_caller),
    search: Annotated[SearchText, Query()] = "",
    actor: Annotated[FilterText, Query()] = "",
    action: Annotated[FilterText, Query()] = "",
    target: Annotated[FilterText, Query()] = "",
    outcome: Literal["all", "success", "failure", "denied"] = "all",
    date_from: Annotated[date | None, Query(description="YYYY-MM-DD, inclusive (UTC)")] = None,
    date_to: Annotated[date | None, Query(description="YYYY-MM-DD, inclusive (UTC)")] = None,
    page: PageNumber = 1,
    per_page: PerPage = 25,
) -> ActivityPage:
    result = activity.search(
        activity.ActivityQuery(
            search=search,
            actor=actor,
            action=action,
            target=target,
            outcome=outcome,
            date_from=day_text(date_from),
            date_to=day_text(date_to),
            page=page,
            per_page=per_page,
        )
    )
    return page_out(ActivityPage, result)
