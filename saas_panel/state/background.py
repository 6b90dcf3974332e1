"""Work that outlives the event that started it (signup hands provisioning here)."""

from __future__ import annotations

import asyncio
import logging

from saas_panel.errors import DomainError
from saas_panel.services import provisioning

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
