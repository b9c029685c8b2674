"""``ServiceBusSubscription``: one subscription's receive loop (the ``AdapterSubscription``
protocol); a fan-out subscription the adapter provisioned is deleted on close."""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventbus_servicebus._receiving import SessionLoop, SingleLoop

if TYPE_CHECKING:
    from eventbus_servicebus._adapter import ServiceBusAdapter

__all__ = ["ServiceBusSubscription"]


class ServiceBusSubscription:
    """One subscription's receive loop (the ``AdapterSubscription`` protocol)."""

    def __init__(
        self,
        adapter: ServiceBusAdapter,
        loop: SingleLoop | SessionLoop,
        remove: tuple[str, str] | None,
    ) -> None:
        self._adapter = adapter
        self._loop = loop
        self._remove = remove
        self._closed = False

    async def stop(self) -> None:
        self._loop.stop()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            await self._loop.close()
            if self._remove is not None and self._adapter._provisioner is not None:
                await self._adapter._provisioner.delete_subscription(*self._remove)
        finally:
            self._adapter._subscriptions.discard(self)
