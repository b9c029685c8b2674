"""JetStream consumers for subscriptions: durable per (group, subject), ephemeral for fan-out.

All are pull consumers with explicit acks and ``deliver_policy=new`` (a subscription gets what
is published after it starts). A group's durable consumer is created or updated on every
subscribe (the last subscriber's settings win); the dead-letter group's is only created.
"""

from __future__ import annotations

import nats.js.errors
from nats.js import api
from nats.js.client import JetStreamContext

from eventbus.adapter import (
    DEAD_LETTER_GROUP,
    AdapterError,
    ConfigurationError,
    Scrubber,
    SubscriptionSpec,
)
from eventbus_nats._config import ConsumerConfig
from eventbus_nats._errors import translated
from eventbus_nats._names import consumer_name

__all__ = ["Consumers"]

_GROUP_MIN_ACK_PENDING = 1000


class Consumers:
    """Creates, checks and deletes the consumers of one adapter."""

    def __init__(self, js: JetStreamContext, settings: ConsumerConfig, scrub: Scrubber) -> None:
        self._js = js
        self._settings = settings
        self._scrub = scrub

    def config(
        self, spec: SubscriptionSpec, name: str, *, durable: bool, start_seq: int | None = None
    ) -> api.ConsumerConfig:
        """The consumer configuration that serves ``spec``."""
        settings = self._settings
        max_deliver = -1
        if spec.max_attempts is not None:
            max_deliver = spec.max_attempts + settings.extra_deliveries
        backoff = list(settings.backoff) or None
        if backoff and 0 < max_deliver <= len(backoff):
            raise ConfigurationError(
                f"ConsumerConfig.backoff has {len(backoff)} entries; JetStream needs fewer than "
                f"max_deliver ({max_deliver} = max_attempts + extra_deliveries)"
            )
        max_ack_pending = settings.max_ack_pending or 2 * spec.max_in_flight
        if durable and settings.max_ack_pending is None:
            max_ack_pending = max(_GROUP_MIN_ACK_PENDING, max_ack_pending)
        config = api.ConsumerConfig(
            name=name,
            durable_name=name if durable else None,
            filter_subject=spec.channel,
            ack_policy=api.AckPolicy.EXPLICIT,
            deliver_policy=api.DeliverPolicy.NEW,
            ack_wait=spec.ack_wait,
            max_deliver=max_deliver,
            max_ack_pending=max_ack_pending,
            backoff=backoff,
            inactive_threshold=None if durable else settings.inactive_threshold,
        )
        if start_seq is not None:
            config.deliver_policy = api.DeliverPolicy.BY_START_SEQUENCE
            config.opt_start_seq = start_seq
        return config

    async def durable(self, stream: str, spec: SubscriptionSpec) -> str:
        """Create or update the group's durable consumer; return its name."""
        assert spec.group is not None
        name = consumer_name(spec.group, spec.channel)
        await self._add(stream, self.config(spec, name, durable=True))
        return name

    async def dead_letter_group(self, stream: str, channel: str) -> None:
        """Make sure the durable ``dlq`` group keeps what is sent to ``channel`` from now on."""
        name = consumer_name(DEAD_LETTER_GROUP, channel)
        if not await self.exists(stream, name):
            spec = SubscriptionSpec(channel=channel, group=DEAD_LETTER_GROUP)
            await self._add(stream, self.config(spec, name, durable=True))

    async def ephemeral(
        self, stream: str, spec: SubscriptionSpec, name: str, start_seq: int | None = None
    ) -> None:
        """Create a fan-out consumer (deleted by the server once abandoned)."""
        await self._add(stream, self.config(spec, name, durable=False, start_seq=start_seq))

    async def exists(self, stream: str, name: str) -> bool:
        try:
            with translated(f"reading consumer {name!r} of stream {stream!r}", self._scrub):
                await self._js.consumer_info(stream, name)
        except AdapterError as exc:
            if isinstance(exc.__cause__, nats.js.errors.NotFoundError):
                return False
            raise
        return True

    async def delete(self, stream: str, name: str) -> None:
        try:
            with translated(f"deleting consumer {name!r}", self._scrub):
                await self._js.delete_consumer(stream, name)
        except AdapterError as exc:
            if not isinstance(exc.__cause__, nats.js.errors.NotFoundError):
                raise

    async def _add(self, stream: str, config: api.ConsumerConfig) -> None:
        try:
            with translated(f"creating consumer {config.name!r} on {stream!r}", self._scrub):
                await self._js.add_consumer(stream, config)
        except AdapterError as exc:
            if isinstance(exc.__cause__, nats.js.errors.BadRequestError):
                raise ConfigurationError(str(exc)) from exc
            raise
