"""GET /api/admin/stats: the overview numbers."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from saas_panel.api.deps import Caller, token_caller
from saas_panel.api.schemas import Stats
from saas_panel.services import overview

router = APIRouter(prefix="/api/admin", tags=["admin"])


@router.get("/stats", response_model=Stats)
def stats(caller: Caller = Depends(token_caller)) -> Stats:
    data = overview.overview(recent_rows=0)
    return Stats(
        users_total=data.users_total,
        users_active=data.users_active,
        containers_total=data.containers_total,
        containers=data.containers,
        cpu_percent=data.usage.cpu_percent,
        mem_bytes=data.usage.mem_bytes,
        sampled_containers=data.usage.sampled,
        engine_ok=data.engine_ok,
    )
