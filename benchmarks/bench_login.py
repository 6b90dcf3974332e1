"""Login cost: our full login (bcrypt cost 12 + session row) against a bare bcrypt check."""

from __future__ import annotations

import bcrypt

from benchmarks.common import median_seconds, scratch_database

REPEAT = 9


def run():
    from saas_panel.services import auth

    with scratch_database():
        auth.register("bench", "bench@example.com", "bench password")
        ours = median_seconds(lambda: auth.login("bench", "bench password"), REPEAT)
        hashed = bcrypt.hashpw(b"bench password", bcrypt.gensalt(12))
        raw = median_seconds(lambda: bcrypt.checkpw(b"bench password", hashed), REPEAT)
    yield {"bench": "login", "ours_s": round(ours, 4), "raw_bcrypt_s": round(raw, 4), "ratio": round(ours / raw, 3)}
