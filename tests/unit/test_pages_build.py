"""Every registered page builds its component tree (catches UI errors before a frontend build)."""

from __future__ import annotations

import pytest

from saas_panel.saas_panel import app

ROUTES = sorted(app._unevaluated_pages)


def test_all_screens_are_registered():
    assert {"index", "login", "signup", "dashboard", "admin"} <= set(ROUTES)


@pytest.mark.parametrize("route", ROUTES)
def test_page_builds(route):
    page = app._unevaluated_pages[route]
    component = page.component() if callable(page.component) else page.component
    assert component.render()["children"], f"the {route} page renders nothing"
