"""Matches workers' replies to the forwarded events waiting for them, by envelope id."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from charging.protocol import envelope as env

log = logging.getLogger("gateway.replies")


class Replies:
    """One future per event in flight; shared by every connection of a gateway."""

    def __init__(self) -> None:
        self._waiting: dict[str, asyncio.Future[env.Reply]] = {}

    def __len__(self) -> int:
        return len(self._waiting)

    def expect(self, event_id: str) -> asyncio.Future[env.Reply]:
        future: asyncio.Future[env.Reply] = asyncio.get_running_loop().create_future()
        self._waiting[event_id] = future
        return future

    def forget(self, event_id: str) -> None:
        self._waiting.pop(event_id, None)

    def resolve(self, reply: dict[str, Any]) -> bool:
        """Hand `reply` to the forwarder waiting for it; False if nobody is (any more)."""
        future = self._waiting.pop(str(reply.get("id")), None)
        if future is None or future.done():
            # A reply after its reply_timeout, or a redelivered task's second answer.
            log.debug("dropping reply for unknown or expired event %s", reply.get("id"))
            return False
        future.set_result(reply)  # type: ignore[arg-type]
        return True
