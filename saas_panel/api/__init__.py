"""The REST API: FastAPI routes mounted around the Reflex backend (see app.py)."""
