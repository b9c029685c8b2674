"""``NatsAdapter``: the adapter contract over core NATS or JetStream."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Sequence
from typing import Any

from nats.aio.client import Client

from eventbus.adapter import (
    BrokerConnectionError,
    Browsed,
    Capabilities,
    ChannelNames,
    ConfigurationError,
    DeadLetter,
    Deliver,
    GroupInfo,
    Message,
    Scrubber,
    SubscriptionSpec,
    UnsupportedSemanticError,
)
from eventbus_nats._admin import JetStreamAdmin
from eventbus_nats._capabilities import capabilities_for
from eventbus_nats._config import NatsConfig
from eventbus_nats._connect import ConnectionEvents, open_connection, servers_text
from eventbus_nats._consumers import Consumers
from eventbus_nats._core import CoreSubscription
from eventbus_nats._delivery import JetStreamDelivery
from eventbus_nats._errors import translated
from eventbus_nats._names import ADAPTER_NAME
from eventbus_nats._publish import JetStreamPublisher, check_size, headers_of, publish_core
from eventbus_nats._pull import PullSubscription
from eventbus_nats._replies import NatsReplies, check_reply_subject
from eventbus_nats._streams import Streams
from eventbus_nats._url import parse_nats_url

__all__ = ["NatsAdapter"]

log = logging.getLogger("eventbus.nats")


class _JetStream:
    """The JetStream parts of a connected adapter."""

    def __init__(self, nc: Client, config: NatsConfig, scrub: Scrubber) -> None:
        self.streams = Streams(nc, config, scrub)
        self.admin = JetStreamAdmin(nc, self.streams, scrub)
        self.consumers = Consumers(nc.jetstream(), config.consumer, scrub)
        self.publisher = JetStreamPublisher(
            nc, scrub, config.publish_timeout, config.publish_retries
        )


class NatsAdapter:
    """Core NATS or JetStream behind the adapter contract (see docs/adapters/nats.md).

    Build it from a :class:`NatsConfig` or with :meth:`from_url`. JetStream (the default) gives
    at-least-once delivery, durable groups, delayed redelivery, publisher dedupe and dead
    letters; ``mode="core"`` gives at-most-once fan-out and queue groups.
    """

    def __init__(self, config: NatsConfig | None = None) -> None:
        self._config = config if config is not None else NatsConfig()
        self._scrub = Scrubber(self._config.auth.secrets())
        self._capabilities = capabilities_for(self._config.mode)
        self._limits = self._capabilities.limits
        self._max_payload = self._limits.max_message_bytes or 0
        self._jetstream_mode = self._config.mode == "jetstream"
        self._events = ConnectionEvents(self._scrub, self._reconnected, self._lost, self._dropped)
        self._nc: Client | None = None
        self._js: _JetStream | None = None
        self._subscriptions: dict[PullSubscription | CoreSubscription, None] = {}
        self._names = ChannelNames(self._limits, adapter=ADAPTER_NAME)

    @classmethod
    def from_url(cls, url: str) -> NatsAdapter:
        """``nats://[user:password@|token@]host[:port][,host:port...][?param=value...]``."""
        return cls(parse_nats_url(url))

    def __repr__(self) -> str:
        return f"NatsAdapter({servers_text(self._config)!r}, mode={self._config.mode!r})"

    @property
    def name(self) -> str:
        return ADAPTER_NAME

    @property
    def capabilities(self) -> Capabilities:
        """The mode's semantics; after connect, the server's real ``max_payload`` as limit."""
        return self._capabilities

    @property
    def config(self) -> NatsConfig:
        return self._config

    @property
    def connection(self) -> Client | None:
        """The nats-py connection while connected (for diagnostics)."""
        return self._nc

    async def connect(self) -> None:
        if self._nc is not None:
            return
        nc = await open_connection(self._config, self._events, self._scrub)
        try:
            if self._jetstream_mode:
                js = _JetStream(nc, self._config, self._scrub)
                await js.streams.prepare()
                await js.publisher.start()
                self._js = js
        except BaseException:
            await nc.close()
            raise
        if nc.max_payload != self._max_payload:
            self._max_payload = nc.max_payload
            self._capabilities = capabilities_for(self._config.mode, nc.max_payload)
            self._limits = self._capabilities.limits
            self._names = ChannelNames(self._limits, adapter=ADAPTER_NAME)
        self._nc = nc

    async def close(self) -> None:
        """Close the subscriptions (unsettled messages go back), flush, disconnect."""
        nc = self._nc
        if nc is None:
            return
        for subscription in list(self._subscriptions):
            try:
                await subscription.close()
            except Exception:
                log.warning("nats: error closing %r", subscription, exc_info=True)
        self._subscriptions.clear()
        self._nc, self._js = None, None
        self._events.closing()
        if nc.is_connected:
            try:
                await nc.flush(timeout=2)
            except Exception as exc:
                log.debug("nats: flush before close failed: %r", exc)
        try:
            await nc.close()
        except Exception as exc:  # a dead connection cannot flush its buffer: nothing to do
            log.debug("nats: closing the connection: %r", exc)

    def _connection(self) -> Client:
        nc = self._nc
        if nc is None:
            raise BrokerConnectionError("the NATS adapter is not connected (call connect())")
        return nc

    async def publish(self, channel: str, messages: Sequence[Message]) -> None:
        nc = self._connection()
        js = self._js
        self._names.channel(channel)
        if js is None:
            await publish_core(nc, channel, messages, self._max_payload, self._scrub)
            return
        items = []
        for message in messages:
            headers = headers_of(message, dedupe=True)
            check_size(headers, message.body, self._max_payload)
            items.append((headers, message.body))
        await js.streams.stream_for(channel)  # provisions the stream on first use (cached)
        await js.publisher.publish(channel, items)

    async def subscribe(
        self, spec: SubscriptionSpec, deliver: Deliver
    ) -> PullSubscription | CoreSubscription:
        nc = self._connection()
        self._names.pattern(spec.channel)
        if spec.group is not None and not spec.group:
            raise ConfigurationError("a consumer group name must not be empty (None means fan-out)")
        if not spec.ack_wait > 0:
            raise ConfigurationError(f"ack_wait must be > 0 seconds, got {spec.ack_wait!r}")
        if spec.dead_letter_channel is not None:
            self._names.channel(spec.dead_letter_channel)
        subscription: PullSubscription | CoreSubscription
        if self._js is None:
            subscription = CoreSubscription(nc, spec, deliver, self._scrub)
            await subscription.start(self._config.core_pending_limit)
        else:
            subscription = await self._pull_subscription(nc, self._js, spec, deliver)
        self._subscriptions[subscription] = None
        return subscription

    async def _pull_subscription(
        self, nc: Client, js: _JetStream, spec: SubscriptionSpec, deliver: Deliver
    ) -> PullSubscription:
        stream = await js.streams.stream_for(spec.channel)
        if spec.dead_letter_channel is not None:
            dead_stream = await js.streams.stream_for(spec.dead_letter_channel)
            await js.consumers.dead_letter_group(dead_stream, spec.dead_letter_channel)
        if spec.group is not None:
            consumer = await js.consumers.durable(stream, spec)
        else:
            consumer = f"eventbus_{secrets.token_hex(8)}"
            await js.consumers.ephemeral(stream, spec, consumer)
        subscription = PullSubscription(
            nc,
            spec,
            deliver,
            stream=stream,
            consumer=consumer,
            durable=spec.group is not None,
            expires=self._config.consumer.pull_expires,
            scrub=self._scrub,
            recover=self._recover,
            dead_letter=self._dead_letter,
            on_close=self._forget,
        )
        await subscription.start()
        return subscription

    # -- request-reply (ReplyingAdapter; see _replies) --------------------------------------------

    async def listen_replies(
        self, on_reply: Callable[[Message], None], on_no_responders: Callable[[str], None]
    ) -> NatsReplies:
        replies = NatsReplies(self._connection(), on_reply, on_no_responders, self._scrub)
        await replies.start(self._config.core_pending_limit)
        return replies

    async def publish_request(self, channel: str, message: Message, reply_to: str) -> None:
        nc = self._connection()
        if self._js is not None:  # the stream does not keep a reply subject: ce-replyto does
            await self.publish(channel, (message,))
            return
        self._names.channel(channel)
        headers = headers_of(message, dedupe=False)
        check_size(headers, message.body, self._max_payload)
        with translated(f"publishing to {channel!r}", self._scrub, publishing=True):
            await nc.publish(channel, message.body, reply=reply_to, headers=headers)

    async def publish_reply(self, reply_to: str, message: Message) -> None:
        nc = self._connection()
        check_reply_subject(reply_to)
        headers = headers_of(message, dedupe=False)
        check_size(headers, message.body, self._max_payload)
        with translated(f"replying to {reply_to!r}", self._scrub, publishing=True):
            await nc.publish(reply_to, message.body, headers=headers)

    # -- browsing and groups (the optional protocols; nothing is created) -----------------------

    def _admin(self, what: str) -> JetStreamAdmin:
        self._connection()
        if self._js is None:
            raise UnsupportedSemanticError(what, ADAPTER_NAME, "core NATS stores nothing")
        return self._js.admin

    async def browse(self, channel: str, group: str, *, limit: int) -> list[Browsed]:
        admin = self._admin("browse")
        self._names.channel(channel)
        return await admin.browse(channel, group, limit)

    async def remove(self, channel: str, group: str, refs: Sequence[Any]) -> None:
        admin = self._admin("browse")
        self._names.channel(channel)
        await admin.remove(channel, refs)

    async def list_groups(self, channel: str | None = None) -> list[GroupInfo]:
        admin = self._admin("group-admin")
        if channel is not None:
            self._names.channel(channel)
        return await admin.list_groups(channel)

    async def delete_group(self, channel: str, group: str) -> None:
        admin = self._admin("group-admin")
        self._names.channel(channel)
        await admin.delete_group(channel, group)

    async def retention_problem(self, channel: str) -> str | None:
        admin = self._admin("group-admin")
        self._names.channel(channel)
        return await admin.retention_problem(channel)

    async def _recover(self, subscription: PullSubscription) -> None:
        """Re-create the consumer of ``subscription`` if the server lost it."""
        js = self._js
        if js is None:
            return
        stream, consumer = subscription.stream, subscription.consumer
        if await js.consumers.exists(stream, consumer):
            return
        if subscription.durable:
            await js.consumers.durable(stream, subscription.spec)
        else:
            start = subscription.resume_sequence
            await js.consumers.ephemeral(stream, subscription.spec, consumer, start_seq=start)
        log.warning("nats: consumer %r of stream %r was gone; re-created it", consumer, stream)

    async def _dead_letter(self, delivery: JetStreamDelivery, dead: DeadLetter) -> None:
        """Store the annotated message on the dead-letter subject (idempotent per original)."""
        owner = delivery.owner
        assert isinstance(owner, PullSubscription)
        dedupe = f"dead-letter:{owner.stream}:{delivery.sequence}"
        original = dead.message
        moved = Message(original.headers, original.body, original.key, dedupe)
        await self.publish(dead.channel, [moved])

    async def _forget(self, subscription: PullSubscription) -> None:
        self._subscriptions.pop(subscription, None)
        js, nc = self._js, self._nc
        # While disconnected, leave a fan-out consumer to the server's inactive_threshold.
        if js is not None and not subscription.durable and nc is not None and nc.is_connected:
            try:
                await js.consumers.delete(subscription.stream, subscription.consumer)
            except Exception as exc:
                log.debug("nats: could not delete consumer %r: %r", subscription.consumer, exc)

    async def _reconnected(self) -> None:
        for subscription in list(self._subscriptions):
            if isinstance(subscription, PullSubscription):
                subscription.reconnected()

    def _dropped(self, nats_sub: Any) -> None:
        """nats-py dropped a message of ``nats_sub`` (its pending buffer was full)."""
        for subscription in self._subscriptions:
            if isinstance(subscription, CoreSubscription) and subscription.owns(nats_sub):
                subscription.dropped(1)
                return
        # A JetStream pull inbox or the publisher's acknowledgement inbox: nothing is lost
        # (JetStream redelivers after ack_wait; a publish without its ack is sent again).
        log.warning(
            "nats: the client dropped a message of %r (its pending buffer was full)", nats_sub
        )

    async def _lost(self) -> None:
        if self._nc is not None:
            log.error("nats: the connection to %s is closed for good", servers_text(self._config))
