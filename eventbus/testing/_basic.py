"""``BasicAdapter``: a broker with none of the native features, for testing the bus's fallbacks.

Most brokers count deliveries, redeliver after a delay and keep dead letters; the bus has a
fallback for each that one lacks (a local attempt table, sleep-then-nack, dead-lettering by
publishing, in-process retry where nothing is redelivered). This adapter, built on the
in-memory broker, declares none of those features, so the conformance suite exercises every
fallback. Its deliveries always say attempt 1, ignore nack delays and have no ``dead_letter``.

URL: ``basic://NAME[?redeliver=false]`` (the ``basic`` scheme is registered by
:func:`register_basic_adapter`, which the eventbus pytest plugin calls). ``NAME`` is a named
in-memory broker (shared with ``memory://NAME``). ``redeliver=false`` makes it at-most-once:
messages are settled when handed over, so the bus retries in process.

Fault injection for tests: ``BasicAdapter(..., fail_publish=predicate)`` makes ``publish``
raise :class:`~eventbus.PublishError` while ``predicate(channel)`` is true.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from urllib.parse import parse_qsl, urlsplit

import pluggy

from eventbus._adapter._contract import (
    AdapterInfo,
    AdapterSubscription,
    Capabilities,
    DeadLetter,
    Deliver,
    Delivery,
    Semantic,
    SubscriptionSpec,
    Support,
)
from eventbus._errors import ConfigurationError, PublishError
from eventbus._memory import MemoryAdapter
from eventbus._wire._message import Message

__all__ = ["BasicAdapter", "register_basic_adapter"]

SCHEME = "basic"


def _capabilities(redeliver: bool, base: Capabilities) -> Capabilities:
    supported = Support.NATIVE
    semantics = {
        Semantic.CONSUMER_GROUPS: supported,
        Semantic.BATCH_PUBLISH: supported,
        Semantic.WILDCARD_SUBSCRIBE: supported,
    }
    if redeliver:
        semantics[Semantic.AT_LEAST_ONCE] = supported
    return Capabilities(semantics=semantics, limits=base.limits, binding=base.binding)


class _BasicDelivery:
    """A memory delivery that hides the broker's attempt count, nack delay and dead letters."""

    __slots__ = ("_inner", "_redeliver")

    def __init__(self, inner: Delivery, redeliver: bool) -> None:
        self._inner = inner
        self._redeliver = redeliver

    @property
    def message(self) -> Message:
        return self._inner.message

    @property
    def attempt(self) -> int:
        return 1  # this broker does not count deliveries

    async def ack(self) -> None:
        if self._redeliver:
            await self._inner.ack()

    async def nack(self, delay: float | None = None) -> None:
        if self._redeliver:
            await self._inner.nack(None)  # no delayed redelivery: at once

    async def dead_letter(self, dead: DeadLetter) -> None:
        raise NotImplementedError("the basic adapter has no dead letters; the bus publishes")

    async def extend(self) -> None:
        return None


class BasicAdapter:
    """An adapter without native retry features, on a named in-memory broker."""

    def __init__(
        self,
        name: str,
        *,
        redeliver: bool = True,
        fail_publish: Callable[[str], bool] | None = None,
    ) -> None:
        self._inner = MemoryAdapter(name)
        self._redeliver = redeliver
        self._capabilities = _capabilities(redeliver, self._inner.capabilities)
        self.fail_publish = fail_publish
        #: How many publishes ``fail_publish`` refused.
        self.failed_publishes = 0

    @classmethod
    def from_url(cls, url: str) -> BasicAdapter:
        parts = urlsplit(url)
        if parts.scheme != SCHEME or not parts.netloc:
            raise ConfigurationError(
                f"a basic adapter URL is basic://NAME[?redeliver=false]: {url}"
            )
        redeliver = True
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            if key != "redeliver" or value not in ("true", "false"):
                raise ConfigurationError(
                    f"unknown basic adapter parameter {key}={value!r} (known: redeliver=false)"
                )
            redeliver = value == "true"
        return cls(parts.netloc, redeliver=redeliver)

    @property
    def name(self) -> str:
        return SCHEME

    @property
    def capabilities(self) -> Capabilities:
        return self._capabilities

    async def connect(self) -> None:
        await self._inner.connect()

    async def close(self) -> None:
        await self._inner.close()

    async def publish(self, channel: str, messages: Sequence[Message]) -> None:
        if self.fail_publish is not None and self.fail_publish(channel):
            self.failed_publishes += 1
            raise PublishError(f"injected failure publishing to {channel!r}")
        await self._inner.publish(channel, messages)

    async def subscribe(self, spec: SubscriptionSpec, deliver: Deliver) -> AdapterSubscription:
        redeliver = self._redeliver

        async def hand_over(inner: Delivery) -> None:
            if not redeliver:
                await inner.ack()  # at most once: settled when handed over
            await deliver(_BasicDelivery(inner, redeliver))

        return await self._inner.subscribe(spec, hand_over)


_hookimpl = pluggy.HookimplMarker("eventbus")


class _Plugin:
    @_hookimpl
    def eventbus_adapters(self) -> list[AdapterInfo]:
        return [
            AdapterInfo(
                scheme=SCHEME,
                distribution="eventbus",
                description="test adapter without native retry features: basic://NAME",
                factory=BasicAdapter.from_url,
                capabilities=_capabilities(True, MemoryAdapter().capabilities),
            )
        ]


_PLUGIN = _Plugin()


def register_basic_adapter(pm: pluggy.PluginManager | None = None) -> None:
    """Make ``basic://`` URLs available (idempotent)."""
    from eventbus._adapter._plugins import plugin_manager

    pm = pm or plugin_manager()
    if not pm.is_registered(_PLUGIN):
        pm.register(_PLUGIN, name="eventbus-testing-basic")
