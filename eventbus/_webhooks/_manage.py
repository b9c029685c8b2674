"""``Webhooks``: manage endpoints (add, list, show, disable, enable, remove), send a test event,
list and replay an endpoint's dead letters. The CLI is a thin layer over it.

``add`` checks the URL with the SSRF guard and, unless switched off per endpoint, runs the
CloudEvents abuse-protection handshake; a ``WebHook-Allowed-Rate`` the endpoint grants becomes
its rate limit (the lower of the two when one was asked for).
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

from eventbus._adapter._contract import Adapter
from eventbus._dlq._queue import DeadLetterEntry, DeadLetterQueue, ReplayResult
from eventbus._webhooks._model import Endpoint
from eventbus._webhooks._sinks import HttpSink, Sink
from eventbus._webhooks._ssrf import DestinationGuard
from eventbus._webhooks._store import EndpointStore, open_endpoint_store
from eventbus._wire._event import Event

__all__ = ["TEST_TYPE", "Webhooks"]

#: The type of the event ``Webhooks.test`` sends.
TEST_TYPE = "eventbus.webhooks.test"


class Webhooks:
    """Endpoint management over ``store`` (an :class:`EndpointStore` or its URL).

    ``allow``: networks the SSRF guard lets through (CIDR strings, e.g. ``"127.0.0.0/8"``).
    ``origin``: the ``WebHook-Request-Origin`` sent in the handshake.
    """

    def __init__(
        self,
        store: EndpointStore | str,
        *,
        allow: Sequence[str] = (),
        origin: str = "eventbus.local",
        sink: HttpSink | None = None,
    ) -> None:
        self.store = open_endpoint_store(store) if isinstance(store, str) else store
        self.guard = DestinationGuard(allow)
        self.origin = origin
        self._sink = sink
        self._ready = False

    def __repr__(self) -> str:
        return f"Webhooks({self.store!r})"

    async def __aenter__(self) -> Webhooks:
        await self._schema()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._sink is not None:
            await self._sink.close()
            self._sink = None
        await self.store.close()

    async def _schema(self) -> None:
        if not self._ready:
            await self.store.ensure_schema()
            self._ready = True

    def http(self) -> HttpSink:
        if self._sink is None:
            self._sink = HttpSink(self.guard)
        return self._sink

    async def add(
        self,
        url: str,
        event_types: str | Sequence[str],
        **options: Any,
    ) -> Endpoint:
        """Check, hand-shake and store a new endpoint; returns it (with its generated secret
        when none was given: ``endpoint.secrets[0].reveal()`` shows it)."""
        await self._schema()
        endpoint = Endpoint.new(url, event_types, **options)
        await self.guard.check(endpoint.url)
        sink = self.http()
        if endpoint.handshake and sink.accepts(endpoint):
            granted = await sink.handshake(endpoint, self.origin)
            if granted is not None:
                limit = min(granted, endpoint.rate_limit or granted)
                endpoint = endpoint.with_changes(rate_limit=limit)
        await self.store.add(endpoint)
        return endpoint

    async def list(self) -> builtins.list[Endpoint]:
        await self._schema()
        return await self.store.list()

    async def get(self, endpoint_id: str) -> Endpoint:
        await self._schema()
        return await self.store.get(endpoint_id)

    async def set_enabled(self, endpoint_id: str, enabled: bool) -> Endpoint:
        endpoint = await self.get(endpoint_id)
        changed = endpoint.with_changes(
            enabled=enabled, disabled_reason=None if enabled else "disabled by an operator"
        )
        await self.store.update(changed)
        return changed

    async def remove(self, endpoint_id: str) -> None:
        await self._schema()
        await self.store.remove(endpoint_id)

    async def test(self, endpoint_id: str, sink: Sink | None = None) -> Event[Any]:
        """Send a ``eventbus.webhooks.test`` event to the endpoint now, directly (not through
        the bus); raises the sink's DeliveryFailedError when it is not accepted."""
        endpoint = await self.get(endpoint_id)
        event: Event[Any] = Event(
            type=TEST_TYPE,
            source="eventbus/webhooks",
            subject=endpoint.id,
            data={"endpoint": endpoint.id, "test": True},
        )
        await (sink or self.http()).send(endpoint, event)
        return event

    def dead_letters(self, adapter: Adapter, endpoint: Endpoint) -> DeadLetterQueue:
        return DeadLetterQueue(adapter, endpoint.channel, dlq_channel=endpoint.dead_letter_channel)

    async def failed(self, adapter: Adapter, endpoint_id: str) -> builtins.list[DeadLetterEntry]:
        """The endpoint's dead letters (each with the last error and the attempt count)."""
        endpoint = await self.get(endpoint_id)
        return list(await self.dead_letters(adapter, endpoint).list())

    async def replay(self, adapter: Adapter, endpoint_id: str) -> ReplayResult:
        """Send the endpoint's dead letters again, to this endpoint only (its own channel)."""
        endpoint = await self.get(endpoint_id)
        return await self.dead_letters(adapter, endpoint).replay(to_channel=endpoint.channel)
