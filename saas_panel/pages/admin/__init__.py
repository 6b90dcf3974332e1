"""The admin console. Importing a screen's module registers it (see console.py); the sub-navigation follows this order."""

from saas_panel.pages.admin import overview, users, plans, containers, activity, alerts, tokens  # noqa: F401, I001
from saas_panel.pages.admin.console import ADMIN_SCREENS

__all__ = ["ADMIN_SCREENS"]
