"""Load another page's code ahead of time."""

import reflex as rx


class PrefetchPageLinks(rx.Component):
    """React Router's `<PrefetchPageLinks>`: `<link rel="modulepreload">` tags for the code of
    `page`. On the login and signup forms the browser fetches the dashboard's code while the
    person types, instead of after the redirect (about 0.6 s of a new browser's first dashboard)."""

    library = "react-router"
    tag = "PrefetchPageLinks"

    page: rx.Var[str]


prefetch_page = PrefetchPageLinks.create
