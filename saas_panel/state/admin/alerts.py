"""The admin's alerts: what fires now, the rules (create, edit, switch off, delete) and the webhook log.

A rule's webhook secret is made by the service and pushed once to the browser's
memory (like an API token); its webhook URL, which may hold a token, is never
sent back: the edit form leaves the webhook as it is unless a new URL is typed
or its removal is ticked.
"""

from __future__ import annotations

from typing import ClassVar

import reflex as rx
from reflex.experimental.client_state import ClientStateVar

from saas_panel import presentation
from saas_panel.services import alert_rules, alerts
from saas_panel.services.activity import Action
from saas_panel.services.auth import CurrentUser
from saas_panel.state.admin.base import AdminBase, admin_event
from saas_panel.state.admin.table import ScreenState

NEW_WEBHOOK_SECRET = ClientStateVar.create("new_webhook_secret", default="")
RULE_FIELDS = ("name", "metric", "threshold", "for_seconds", "scope", "scope_target")


def _input(form_data: dict, editing: bool) -> alert_rules.RuleInput:
    values = {field: form_data.get(field, "") for field in RULE_FIELDS}
    url = str(form_data.get("webhook_url", "") or "")
    if editing and not url:
        url = "" if form_data.get("remove_webhook") else None
    return alert_rules.RuleInput(**values, webhook_url=url, enabled=bool(form_data.get("enabled", not editing)))


class AlertsState(ScreenState, AdminBase):
    VIEW_ACTION: ClassVar[Action] = Action.VIEW_ALERTS

    rules: list[dict] = []
    alerts: list[dict] = []
    deliveries: list[dict] = []
    loaded: bool = False
    draft: dict[str, str] = {}  # the edit form's values (no webhook URL)
    editing_id: int = 0
    editing_has_webhook: bool = False
    create_open: bool = False
    edit_open: bool = False
    create_error: str = ""
    edit_error: str = ""
    new_secret_rule: str = ""  # the secret dialog's title; the secret itself is in NEW_WEBHOOK_SECRET

    def _clear(self) -> None:
        self.rules, self.alerts, self.deliveries, self.loaded = [], [], [], False
        self.draft, self.editing_id, self.editing_has_webhook = {}, 0, False
        self.create_open = self.edit_open = False
        self.new_secret_rule = ""

    async def _refresh(self) -> None:
        self.rules = [presentation.alert_rule_row(row) for row in await self._run(alert_rules.list_rules)]
        self.alerts = [presentation.alert_row(row) for row in await self._run(alerts.recent_alerts)]
        self.deliveries = [presentation.delivery_row(row) for row in await self._run(alerts.recent_deliveries)]
        self.loaded = True

    def _shown_once(self, saved: alert_rules.SavedRule):
        if not saved.webhook_secret:
            return rx.toast.success(f"Rule {saved.rule.name} saved.")
        self.new_secret_rule = saved.rule.name
        return NEW_WEBHOOK_SECRET.push(saved.webhook_secret)

    @admin_event(Action.CREATE_ALERT_RULE)
    async def open_create(self, open_: bool):
        self.create_open, self.create_error = bool(open_), ""

    @admin_event(Action.CREATE_ALERT_RULE, busy="create", error_var="create_error")
    async def create_rule(self, admin: CurrentUser, form_data: dict):
        saved = await self._run(alert_rules.create_rule, admin, _input(form_data, editing=False), self._client_ip())
        self.create_open = False
        await self._refresh()
        return self._shown_once(saved)

    @admin_event(Action.UPDATE_ALERT_RULE, busy="edit:{rule_id}")
    async def open_edit(self, rule_id: int):
        rule = await self._run(alert_rules.get_rule, rule_id)
        self.draft = {
            "name": rule.name, "metric": rule.metric, "threshold": f"{rule.threshold:g}", "for_seconds": str(rule.for_seconds),
            "scope": rule.scope, "scope_target": rule.scope_target, "enabled": "on" if rule.enabled else "",
        }
        self.editing_id, self.editing_has_webhook = rule.id, bool(rule.webhook_url)
        self.edit_open, self.edit_error = True, ""

    @admin_event(Action.UPDATE_ALERT_RULE)
    async def set_edit_open(self, open_: bool):
        self.edit_open = bool(open_) and self.editing_id > 0

    @admin_event(Action.UPDATE_ALERT_RULE, busy="save", error_var="edit_error")
    async def update_rule(self, admin: CurrentUser, form_data: dict):
        saved = await self._run(alert_rules.update_rule, admin, self.editing_id, _input(form_data, editing=True), self._client_ip())
        self.edit_open = False
        await self._refresh()
        return self._shown_once(saved)

    @admin_event(Action.DELETE_ALERT_RULE, busy="delete:{rule_id}")
    async def delete_rule(self, admin: CurrentUser, rule_id: int):
        name = await self._run(alert_rules.delete_rule, admin, rule_id, self._client_ip())
        await self._refresh()
        return rx.toast.success(f"Rule {name} deleted, with its alerts.")
