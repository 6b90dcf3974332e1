"""Admin console states: one per screen, all built on AdminBase (role checked in every handler)."""

from saas_panel.state.admin.activity import ActivityState
from saas_panel.state.admin.base import AdminBase
from saas_panel.state.admin.containers import ContainersState
from saas_panel.state.admin.overview import OverviewState
from saas_panel.state.admin.tokens import TokensState
from saas_panel.state.admin.users import UsersState

ADMIN_STATES = (OverviewState, UsersState, ContainersState, ActivityState, TokensState)

__all__ = ["ADMIN_STATES", "ActivityState", "AdminBase", "ContainersState", "OverviewState", "TokensState", "UsersState"]
