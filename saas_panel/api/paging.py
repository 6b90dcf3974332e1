"""What every paged list endpoint shares: the page query parameters and the page response."""

from __future__ import annotations

from typing import Annotated, TypeVar

from fastapi import Query

from saas_panel.api.schemas import DB_INT_MAX, PageOut
from saas_panel.services.query import Page

PageNumber = Annotated[int, Query(ge=1, le=DB_INT_MAX)]
PerPage = Annotated[int, Query(ge=1, le=100)]

P = TypeVar("P", bound=PageOut)


def page_out(page_model: type[P], result: Page) -> P:
    """A service's page of rows as `page_model`."""
    return page_model(
        items=result.rows,
        total=result.total,
        page=result.page,
        per_page=result.per_page,
        pages=result.pages,
    )
