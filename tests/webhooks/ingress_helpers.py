"""Shared helpers of the ingress tests."""

from __future__ import annotations

import asyncio
from typing import Any

from eventbus import Event


class Collector:
    """A handler keeping every event it is given (by id, in arrival order)."""

    def __init__(self) -> None:
        self.events: list[Event[Any]] = []
        self.arrived = asyncio.Event()

    async def __call__(self, event: Event[Any]) -> None:
        self.events.append(event)
        self.arrived.set()

    def ids(self) -> list[str]:
        return [e.id for e in self.events]
