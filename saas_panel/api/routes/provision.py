"""POST /api/provision: a user and their running container, idempotently."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from saas_panel.api.deps import Caller, admin_caller, client_ip
from saas_panel.api.schemas import ProvisionOut, ProvisionRequest
from saas_panel.services import users

router = APIRouter(prefix="/api", tags=["provisioning"])


@router.post(
    "/provision",
    response_model=ProvisionOut,
    status_code=201,
    responses={200: {"model": ProvisionOut, "description": "The user and container already existed"}},
)
def provision(body: ProvisionRequest, request: Request, response: Response, caller: Caller = Depends(admin_caller)) -> ProvisionOut:
    """Create the user if needed and their container; 201 when something was created, 200 when it all existed."""
    result = users.provision_account(caller.user, body.username, body.email, ip=client_ip(request))
    if not result.created:
        response.status_code = 200
    return ProvisionOut(
        username=result.container.owner,
        container_id=result.container_id,
        engine_id=result.container.engine_id,
        port=result.container.host_port,
        state=result.container.state,
        created=result.created,
    )
