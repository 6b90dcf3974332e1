"""Thin Reflex states: they read the session, call a service, and show the result."""
