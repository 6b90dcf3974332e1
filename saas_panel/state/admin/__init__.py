"""Admin console states: one per screen, all built on AdminBase (every handler an @admin_event)."""

from saas_panel.state.admin.activity import ActivityState
from saas_panel.state.admin.alerts import AlertsState
from saas_panel.state.admin.base import AdminBase
from saas_panel.state.admin.containers import ContainersState
from saas_panel.state.admin.overview import OverviewState
from saas_panel.state.admin.plans import PlansState
from saas_panel.state.admin.tokens import TokensState
from saas_panel.state.admin.users import UsersState

__all__ = ["ActivityState", "AdminBase", "AlertsState", "ContainersState", "OverviewState", "PlansState", "TokensState", "UsersState"]
