"""Work that outlives the event that started it (signup hands provisioning here), and housekeeping."""

from __future__ import annotations

import asyncio
import logging

from saas_panel.config import get_settings
from saas_panel.errors import DomainError
from saas_panel.services import provisioning, throttle

log = logging.getLogger(__name__)
_in_flight: dict[str, asyncio.Task] = {}


def provision_in_background(username: str, *, actor: str, ip: str | None = None) -> None:
    """Start provisioning on a worker thread; failures land in the container row and the log."""
    if username in _in_flight:
        return

    async def _run() -> None:
        try:
            await asyncio.to_thread(provisioning.provision, username, actor=actor, ip=ip)
        except DomainError as exc:
            log.warning("provisioning %s failed: %s", username, exc)
        except Exception:  # noqa: BLE001 - a background task must never die silently
            log.exception("provisioning %s crashed", username)
        finally:
            _in_flight.pop(username, None)

    _in_flight[username] = asyncio.get_running_loop().create_task(_run())


THROTTLE_PURGE_INTERVAL_S = 600


async def purge_throttle() -> None:
    """Lifespan task: drop throttle rows older than every window, so the table stays small."""
    while True:
        settings = get_settings()
        longest = max(settings.login_window_seconds, settings.signup_window_seconds, settings.api_window_seconds)
        try:
            await asyncio.to_thread(throttle.purge, longest)
        except Exception:  # noqa: BLE001 - a failed purge is retried next round
            log.exception("throttle purge failed")
        await asyncio.sleep(THROTTLE_PURGE_INTERVAL_S)
