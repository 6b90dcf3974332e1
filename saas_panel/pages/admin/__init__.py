"""The admin console: overview, users, containers, activity."""

from saas_panel.pages.admin.activity import activity_page
from saas_panel.pages.admin.containers import containers_page
from saas_panel.pages.admin.overview import overview_page
from saas_panel.pages.admin.tokens import tokens_page
from saas_panel.pages.admin.users import users_page

__all__ = ["activity_page", "containers_page", "overview_page", "tokens_page", "users_page"]
