"""Alert rules (list, create, delete) and the alerts they fired."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Path, Request

from saas_panel.api.deps import Caller, admin_caller, client_ip, token_caller
from saas_panel.api.schemas import DB_INT_MAX, AlertRuleCreate, AlertRuleCreated, AlertRuleOut
from saas_panel.services import alert_rules, alerts

router = APIRouter(prefix="/api", tags=["alerts"])
RuleId = Annotated[int, Path(ge=1, le=DB_INT_MAX)]


def _out(rule: alert_rules.RuleView) -> AlertRuleOut:
    return AlertRuleOut(
        id=rule.id, name=rule.name, metric=rule.metric, threshold=rule.threshold, for_seconds=rule.for_seconds,
        scope=rule.scope, scope_target=rule.scope_target, webhook_host=urlsplit(rule.webhook_url).hostname or "", enabled=rule.enabled,
    )


@router.get("/alert-rules", response_model=list[AlertRuleOut])
def list_rules(caller: Caller = Depends(token_caller)) -> list[AlertRuleOut]:
    return [_out(rule) for rule in alert_rules.list_rules()]


@router.post("/alert-rules", response_model=AlertRuleCreated, status_code=201)
def create_rule(body: AlertRuleCreate, request: Request, caller: Caller = Depends(admin_caller)) -> AlertRuleCreated:
    saved = alert_rules.create_rule(caller.user, alert_rules.RuleInput(**body.model_dump()), ip=client_ip(request))
    return AlertRuleCreated(rule=_out(saved.rule), webhook_secret=saved.webhook_secret)


@router.delete("/alert-rules/{rule_id}", responses={404: {"description": "No such rule"}})
def delete_rule(rule_id: RuleId, request: Request, caller: Caller = Depends(admin_caller)) -> dict:
    """Deletes the rule with its alerts."""
    return {"deleted": alert_rules.delete_rule(caller.user, rule_id, ip=client_ip(request))}


@router.get("/alerts", response_model=list[alerts.AlertRow])
def list_alerts(firing: bool = False, caller: Caller = Depends(token_caller)) -> list[alerts.AlertRow]:
    """Firing alerts first, then the latest resolved (the last 50); `firing=true`: firing only."""
    return alerts.recent_alerts(firing_only=firing)
