"""``EventBus``: publish and subscribe CloudEvents on whichever broker the URL names."""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, TypeVar, Unpack, overload

from eventbus._adapter._contract import Adapter, Capabilities, Semantic, SubscriptionSpec
from eventbus._adapter._plugins import create_adapter
from eventbus._adapter._toolkit import ChannelNames
from eventbus._bus._consumer import Subscription, _Runtime
from eventbus._bus._handler import Handler, inspect_handler
from eventbus._bus._handlers import HandlerGroup, Hook, Lifespan, check_hook, resolve
from eventbus._bus._middleware import ConsumeNext, Middleware, compose_consume, compose_publish
from eventbus._bus._options import SubscribeOptions, check_bus_options, check_subscribe_options
from eventbus._bus._retry import RetryPolicy
from eventbus._bus._router import Router, is_pattern, type_matcher
from eventbus._bus._wireopts import WireOptions, split_wire_options
from eventbus._errors import (
    BusClosedError,
    ConfigurationError,
    LimitExceededError,
    UnsupportedSemanticError,
    redact_url,
)
from eventbus._rpc import Replier, Requester, RequestStats
from eventbus._wire._bindings import ContentMode, decoder
from eventbus._wire._event import Event
from eventbus._wire._message import Message

__all__ = ["EventBus"]

log = logging.getLogger("eventbus")
H = TypeVar("H", bound=Handler)
K = TypeVar("K", bound=Hook)


class _State(enum.Enum):
    NEW = "new"
    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"


class EventBus:
    """Publish and subscribe CloudEvents through one adapter.

    ``url`` picks the adapter by scheme (``memory://``, ``nats://host:4222``, ...) through the
    installed plugins; an :class:`~eventbus.Adapter` instance may be passed instead. Use it as an
    async context manager (or call :meth:`open` / :meth:`close`). Subscriptions registered
    before opening start when the bus opens.

    Wire switches (also URL options, taken off the URL before the adapter sees it; a parameter
    wins over the URL): ``content_mode`` ("binary" / "structured"; unset: the adapter's default,
    structured on NATS, binary elsewhere), ``amqp_prefix`` ("cloudEvents:" default /
    "cloudEvents_", AMQP binding only), and ``channel_options`` ({channel: {"content_mode": ...,
    "amqp_prefix": ...}}; URL: ``content_mode.CHANNEL=...``). See docs/interop.md.

    A wrong option or value raises :class:`~eventbus.ConfigurationError` naming it.

    :param url: the broker (default ``"memory://"``, a private in-memory broker), or an
        adapter instance.
    :param router: maps event types to channels (default ``Router()``: the channel is the
        event type).
    :param content_mode: ``"binary"`` or ``"structured"`` (default None: the adapter's own).
    :param amqp_prefix: ``"cloudEvents:"`` or ``"cloudEvents_"`` (default None:
        ``"cloudEvents:"``; AMQP binding only).
    :param channel_options: per-channel ``content_mode`` / ``amqp_prefix`` (default None).
    :param middleware: publish and consume middleware, outermost first (default none).
    :param retry: the default :class:`~eventbus.RetryPolicy` of every subscription (default
        ``RetryPolicy()``: 5 attempts, 0.1 s doubling up to 30 s, 20% jitter).
    :param max_in_flight: the default number of handlers running at once per subscription
        (default 64).
    :param drain_timeout: seconds :meth:`close` lets in-flight handlers finish (default 30).
    """

    def __init__(
        self,
        url: str | Adapter = "memory://",
        *,
        router: Router | None = None,
        content_mode: ContentMode | str | None = None,
        amqp_prefix: str | None = None,
        channel_options: Mapping[str, Mapping[str, Any]] | None = None,
        middleware: Sequence[Middleware] = (),
        retry: RetryPolicy | None = None,
        max_in_flight: int = 64,
        drain_timeout: float = 30.0,
    ) -> None:
        check_bus_options(
            content_mode=content_mode,
            middleware=middleware,
            retry=retry,
            max_in_flight=max_in_flight,
            drain_timeout=drain_timeout,
        )
        url_bus: dict[str, str] = {}
        url_channels: dict[str, dict[str, str]] = {}
        if isinstance(url, str):
            self._url = redact_url(url)
            adapter_url, url_bus, url_channels = split_wire_options(url)
            self._adapter = create_adapter(adapter_url)
        else:
            self._url = f"{url.name}://(adapter instance)"
            self._adapter = url
        self._router = router or Router()
        self._middleware = tuple(middleware)
        self._retry = retry or RetryPolicy()
        self._max_in_flight = max_in_flight
        self._drain_timeout = drain_timeout
        self._binding = self._adapter.capabilities.binding
        self._read_limits()
        bus_choice: dict[str, Any] = dict(url_bus)
        if content_mode is not None:
            bus_choice["content_mode"] = content_mode
        if amqp_prefix is not None:
            bus_choice["amqp_prefix"] = amqp_prefix
        channels: dict[str, dict[str, Any]] = {c: dict(o) for c, o in url_channels.items()}
        for channel, options in (channel_options or {}).items():
            channels.setdefault(channel, {}).update(options)
        self._wire = WireOptions(
            self._binding, self._adapter.capabilities.content_mode, bus_choice, channels
        )
        self._plain_wire = not channels
        self._to_message = self._wire.default_encoder
        self._publish = compose_publish(self._middleware, self._send)
        self._runtime = _Runtime(
            self._adapter,
            self._binding,
            self._compose_consume,
            replier=Replier(self._adapter, self._to_message),
        )
        self._requester: Requester | None = None
        self._subscriptions: list[Subscription] = []
        self._starting: set[asyncio.Task[None]] = set()
        self._lifespan = Lifespan()
        self._state = _State.NEW

    # -- properties ---------------------------------------------------------------------------

    @property
    def adapter(self) -> Adapter:
        """The adapter the URL chose (or the one passed)."""
        return self._adapter

    @property
    def capabilities(self) -> Capabilities:
        """What the adapter's broker does natively, what the bus emulates, and its limits."""
        return self._adapter.capabilities

    @property
    def content_mode(self) -> ContentMode:
        """The content mode events are published in (channels may have their own)."""
        return self._wire.content_mode

    @property
    def router(self) -> Router:
        """Maps event types to channels."""
        return self._router

    @property
    def middleware(self) -> tuple[Middleware, ...]:
        """The bus's middleware, outermost first."""
        return self._middleware

    @property
    def subscriptions(self) -> tuple[Subscription, ...]:
        """Every subscription made on this bus."""
        return tuple(self._subscriptions)

    @property
    def is_open(self) -> bool:
        """True between :meth:`open` and :meth:`close`."""
        return self._state is _State.OPEN

    @property
    def drain_timeout(self) -> float:
        """Seconds :meth:`close` lets in-flight handlers finish."""
        return self._drain_timeout

    def __repr__(self) -> str:
        return f"EventBus({self._url!r}, state={self._state.value})"

    # -- lifecycle ----------------------------------------------------------------------------

    async def __aenter__(self) -> EventBus:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def open(self) -> None:
        """Connect the adapter, run the start-up hooks, start every registered subscription."""
        if self._state is not _State.NEW:
            raise BusClosedError(f"{self!r} cannot be opened again")
        await self._adapter.connect()
        self._read_limits()  # a broker may tell its real limits (NATS max_payload) on connect
        self._state = _State.OPEN
        try:
            await self._lifespan.start()
            for sub in self._subscriptions:
                await sub._start()
        except BaseException:
            await self.close()
            raise

    async def close(self, timeout: float | None = None) -> bool:
        """Drain: stop taking messages, let in-flight handlers finish within ``timeout``
        (default: the bus's ``drain_timeout``), run the shutdown hooks, then close the adapter.
        True if fully drained; anything unsettled by then is redelivered by the broker."""
        if self._state in (_State.CLOSING, _State.CLOSED):
            return True
        was_open = self._state is _State.OPEN
        self._state = _State.CLOSING
        timeout = self._drain_timeout if timeout is None else timeout
        drained = True
        try:
            if self._requester is not None:
                await self._requester.close()  # waiting requests fail with BusClosedError
            if self._subscriptions:
                results = await asyncio.gather(
                    *(s.close(timeout) for s in self._subscriptions), return_exceptions=True
                )
                for result in results:
                    if isinstance(result, BaseException):
                        log.error("eventbus: error closing a subscription: %r", result)
                        drained = False
                    elif result is False:
                        drained = False
        finally:
            try:
                await self._lifespan.stop()
            finally:
                if was_open:
                    await self._adapter.close()
                self._state = _State.CLOSED
        return drained

    def _read_limits(self) -> None:
        self._limits = limits = self._adapter.capabilities.limits
        self._names = ChannelNames(limits, adapter=self._adapter.name)
        self._channels: dict[str, str] = {}  # event type -> its channel, checked (see _encode)
        self._check_size = any(
            x is not None
            for x in (limits.max_message_bytes, limits.max_header_count, limits.max_header_bytes)
        )
        # The usual case (memory, NATS): a size limit only, checked inline by _encode.
        only_size = limits.max_header_count is None and limits.max_header_bytes is None
        self._max_bytes = limits.max_message_bytes if only_size else None

    def _require_open(self) -> None:
        if self._state is not _State.OPEN:
            raise BusClosedError(
                f"{self!r} is not open: use 'async with bus:' or 'await bus.open()'"
            )

    # -- publishing ---------------------------------------------------------------------------

    async def publish(self, event: Event[Any]) -> None:
        """Encode and send one event; returns once the broker has it."""
        self._require_open()
        if self._starting:
            await self._wait_starting()
        await self._publish(event)

    async def publish_many(self, events: Iterable[Event[Any]]) -> None:
        """Send several events, batched per channel where the adapter batches (order kept)."""
        self._require_open()
        if self._starting:
            await self._wait_starting()
        batch: list[tuple[str, Message]] = []
        if self._publish == self._send:  # no publish middleware: encode straight away
            batch = [self._encode(event) for event in events]
        else:

            async def collect(event: Event[Any]) -> None:
                batch.append(self._encode(event))

            chain = compose_publish(self._middleware, collect)
            for event in events:
                await chain(event)
        start = 0
        for i in range(1, len(batch) + 1):
            if i == len(batch) or batch[i][0] != batch[start][0]:
                await self._adapter.publish(batch[start][0], [m for _, m in batch[start:i]])
                start = i

    async def request(
        self, event: Event[Any], *, timeout: float = 30.0, reply_type: Any = None
    ) -> Event[Any]:
        """Send ``event`` as a request and return the reply event (its data decoded into
        ``reply_type`` as for a handler's ``Event[T]``). See docs/request-reply.md.

        Raises :class:`RequestTimeoutError` after ``timeout`` seconds, :class:`NoRespondersError`
        when the broker tells at once that nobody listens, :class:`RemoteHandlerError` when the
        responder's handler raised, :class:`BusClosedError` when the bus closes meanwhile.
        """
        self._require_open()
        if self._starting:
            await self._wait_starting()
        if self._requester is None:
            self._requester = Requester(
                self._adapter, self._encode, decoder(self._binding), self._middleware
            )
        return await self._requester.request(event, timeout, reply_type)

    @property
    def request_stats(self) -> RequestStats:
        """Counts of this bus's requests (late replies, timeouts...)."""
        return self._requester.stats if self._requester is not None else RequestStats()

    async def _wait_starting(self) -> None:
        """Subscriptions made on this bus before a publish listen before it is sent."""
        await asyncio.gather(*self._starting, return_exceptions=True)

    async def _send(self, event: Event[Any]) -> None:
        channel, message = self._encode(event)
        await self._adapter.publish(channel, (message,))

    def _encode(self, event: Event[Any]) -> tuple[str, Message]:
        channel = self._channels.get(event.type)
        if channel is None:
            channel = self._channel_for(event.type)
        if self._plain_wire:
            message = self._to_message(event)
        else:
            message = self._wire.encoder_for(channel)(event)
        max_bytes = self._max_bytes
        if max_bytes is not None:
            headers = message.headers
            try:  # Message.size, inline for str headers
                size = len(message.body) + sum(map(len, headers)) + sum(map(len, headers.values()))  # type: ignore[arg-type]
            except TypeError:
                size = message.size()
            if size > max_bytes:
                self._check_limits(message)  # raises
        elif self._check_size:
            self._check_limits(message)
        return channel, message

    def _channel_for(self, event_type: str) -> str:
        """The channel of ``event_type``, checked against the adapter's rules (raises
        ChannelNameError), remembered for the next event of that type."""
        channel = self._router.channel_for(event_type)
        self._names.channel(channel)
        channels = self._channels
        if len(channels) >= 4096:
            channels.clear()
        channels[event_type] = channel
        return channel

    def _check_limits(self, message: Message) -> None:
        limits, name = self._limits, self._adapter.name
        if limits.max_message_bytes is not None:
            size = message.size()
            if size > limits.max_message_bytes:
                raise LimitExceededError(
                    "message size in bytes", limits.max_message_bytes, size, adapter=name
                )
        if limits.max_header_count is not None and len(message.headers) > limits.max_header_count:
            raise LimitExceededError(
                "header count", limits.max_header_count, len(message.headers), adapter=name
            )
        if limits.max_header_bytes is not None:
            for key, value in message.headers.items():
                size = len(key) + (len(value) if isinstance(value, str | bytes) else 8)
                if size > limits.max_header_bytes:
                    raise LimitExceededError(
                        f"size of header {key!r}", limits.max_header_bytes, size, adapter=name
                    )

    # -- subscribing --------------------------------------------------------------------------

    @overload
    def subscribe(
        self, pattern: str, handler: H, **options: Unpack[SubscribeOptions]
    ) -> Subscription: ...

    @overload
    def subscribe(
        self, pattern: str, handler: None = None, **options: Unpack[SubscribeOptions]
    ) -> Callable[[H], H]: ...

    def subscribe(
        self, pattern: str, handler: H | None = None, **options: Unpack[SubscribeOptions]
    ) -> Subscription | Callable[[H], H]:
        """Subscribe ``handler`` to an event type or type pattern.

        Keyword options (see :class:`~eventbus.SubscribeOptions`): ``group`` (competing
        consumers; None = every subscriber gets every event), ``retry`` (a RetryPolicy; default
        the bus's), ``max_in_flight`` (default the bus's), ``channel`` (listen on this channel
        instead of the router's), ``dead_letter_channel`` (None = derived; False = drop after
        logging), ``data_type`` (instead of the handler's ``Event[T]`` annotation), ``ordered``
        (require per-partition-key order; default False), ``ack_wait`` (seconds before an
        unacked message is redelivered; default 30), ``middleware`` (consume middleware for
        this subscription only, run after the bus's).

        Checks run now: a wrong option value (:class:`~eventbus.ConfigurationError` naming it),
        an unsupported semantic, a bad channel name or handler signature raises at once. With a
        handler it returns the :class:`Subscription` (``await`` it to wait until it listens);
        without, it is a decorator that returns the function unchanged.
        """
        check_subscribe_options(f"subscribe({pattern!r})", options)
        if handler is None:

            def decorator(func: H) -> H:
                self.subscribe(pattern, func, **options)
                return func

            return decorator
        sub = self._make_subscription(pattern, handler, **options)
        self._subscriptions.append(sub)
        if self._state is _State.OPEN:
            task = asyncio.get_running_loop().create_task(sub._start())
            self._starting.add(task)
            task.add_done_callback(self._starting.discard)
            task.add_done_callback(_log_start_failure)
        elif self._state is not _State.NEW:
            raise BusClosedError(f"{self!r} is closed")
        return sub

    def include(
        self,
        handlers: HandlerGroup,
        *,
        prefix: str = "",
        group: str | None = None,
        middleware: Sequence[Middleware] = (),
    ) -> list[Subscription]:
        """Subscribe every handler of ``handlers`` and adopt its start-up and shutdown hooks.

        ``prefix`` goes before each pattern, ``group`` is the consumer group of subscriptions
        that name none, ``middleware`` runs (after the bus's, before the group's) around each
        handler. Include before opening for the hooks to run at open.
        """
        subs = [
            self.subscribe(reg.pattern, reg.handler, **reg.options)
            for reg in resolve(handlers, prefix=prefix, group=group, middleware=middleware)
        ]
        self._lifespan.extend(handlers.lifespan)
        return subs

    def on_startup(self, hook: K) -> K:
        """Decorator: run ``hook()`` (async or not, no arguments) when the bus opens, after
        connecting and before the subscriptions start (open database pools here)."""
        check_hook(hook, "on_startup")
        self._lifespan.startup.append(hook)
        return hook

    def on_shutdown(self, hook: K) -> K:
        """Decorator: run ``hook()`` when the bus closes, after the handlers drained and before
        the adapter closes; shutdown hooks run in reverse order of registration."""
        check_hook(hook, "on_shutdown")
        self._lifespan.shutdown.append(hook)
        return hook

    def _make_subscription(
        self,
        pattern: str,
        handler: Handler,
        *,
        group: str | None = None,
        retry: RetryPolicy | None = None,
        max_in_flight: int | None = None,
        channel: str | None = None,
        dead_letter_channel: str | bool | None = None,
        data_type: Any = None,
        ordered: bool = False,
        ack_wait: float = 30.0,
        middleware: Sequence[Middleware] = (),
    ) -> Subscription:
        caps, name = self._adapter.capabilities, self._adapter.name
        info = inspect_handler(handler, data_type)
        if channel is not None:
            listen, type_filter = channel, (None if pattern == ">" else type_matcher(pattern))
        else:
            route = self._router.route(pattern)
            listen, type_filter = route.channel, route.filter
        wildcard = is_pattern(listen)
        if wildcard and not caps.has(Semantic.WILDCARD_SUBSCRIBE):
            raise UnsupportedSemanticError(
                Semantic.WILDCARD_SUBSCRIBE.value,
                name,
                f"{pattern!r} is a pattern; route the types it covers to one channel with "
                f"Router(routes={{{pattern!r}: 'some-channel'}})",
            )
        self._check_channel_or_pattern(listen, wildcard)
        if group is not None and not caps.has(Semantic.CONSUMER_GROUPS):
            raise UnsupportedSemanticError(
                Semantic.CONSUMER_GROUPS.value, name, "competing consumers are not available"
            )
        if ordered and not caps.has(Semantic.ORDERING_KEY):
            raise UnsupportedSemanticError(
                Semantic.ORDERING_KEY.value, name, "order per partition key cannot be kept"
            )
        dlq: str | None
        if dead_letter_channel is False:
            dlq = None
        elif isinstance(dead_letter_channel, str):
            dlq = dead_letter_channel
        else:
            base = listen
            if wildcard:
                base = ".".join({"*": "any", ">": "all"}.get(t, t) for t in listen.split("."))
            dlq = self._router.dead_letter_channel(base)
        if dlq is not None:
            self._names.channel(dlq)
            if wildcard and type_matcher(listen)(dlq):
                raise ConfigurationError(
                    f"the dead-letter channel {dlq!r} matches the subscription's own pattern "
                    f"{listen!r}; pass dead_letter_channel=... outside it"
                )
        policy = retry or self._retry
        spec = SubscriptionSpec(
            channel=listen,
            group=group,
            max_in_flight=max_in_flight or self._max_in_flight,
            dead_letter_channel=dlq,
            max_attempts=policy.max_attempts,
            ack_wait=ack_wait,
            ordered=ordered,
        )
        runtime, chain = self._runtime, (*self._middleware, *middleware)
        if middleware:
            runtime = dataclasses.replace(
                runtime, chain=lambda terminal: compose_consume(chain, terminal)
            )
        sub = Subscription(
            runtime,
            pattern=pattern,
            handler=info,
            spec=spec,
            type_filter=type_filter,
            retry=policy,
        )
        for mw in chain:
            mw.on_subscribe(sub)
        return sub

    def _check_channel_or_pattern(self, channel: str, wildcard: bool) -> None:
        if wildcard:
            self._names.pattern(channel)
        else:
            self._names.channel(channel)

    def _compose_consume(self, terminal: ConsumeNext) -> ConsumeNext:
        return compose_consume(self._middleware, terminal)


def _log_start_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("eventbus: a subscription failed to start: %r", task.exception())
