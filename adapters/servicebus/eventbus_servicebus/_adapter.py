"""``ServiceBusAdapter``: eventbus channels on Azure Service Bus topics (or queues).

Layout: a channel is a topic of the same name; a consumer group is a subscription of that topic
named after the group; a subscriber without a group gets its own subscription (``eb-<random>``,
removed on close when the adapter provisions). Channels listed in ``queues`` are queues
instead (one consumer group each). Messages are received in peek-lock mode.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from azure.servicebus import ServiceBusReceiveMode, ServiceBusSubQueue
from azure.servicebus.aio import ServiceBusClient, ServiceBusReceiver

from eventbus.adapter import (
    DEAD_LETTER_GROUP,
    BrokerConnectionError,
    Browsed,
    Capabilities,
    ConfigurationError,
    DeadLetter,
    Deliver,
    GroupInfo,
    Message,
    Scrubber,
    SubscriptionSpec,
)
from eventbus_servicebus._capabilities import capabilities_for
from eventbus_servicebus._config import ServiceBusConfig
from eventbus_servicebus._convert import ATTEMPTS_PROPERTY, to_servicebus
from eventbus_servicebus._delivery import ServiceBusDelivery
from eventbus_servicebus._errors import translated
from eventbus_servicebus._groups import ServiceBusGroups
from eventbus_servicebus._provision import Provisioner
from eventbus_servicebus._publish import Publisher
from eventbus_servicebus._receiving import ReceiveOptions, SessionLoop, SingleLoop
from eventbus_servicebus._replies import (
    REPLY_TTL,
    ServiceBusReplies,
    new_session_id,
    split_reply_to,
)
from eventbus_servicebus._sdk import default_credential, shorten_further_pull
from eventbus_servicebus._subscription import ServiceBusSubscription
from eventbus_servicebus._url import parse_servicebus_url

__all__ = ["ADAPTER_NAME", "ServiceBusAdapter"]

log = logging.getLogger("eventbus.servicebus")
ADAPTER_NAME = "servicebus"
_NATIVE_DLQ = "/$deadletterqueue"


class ServiceBusAdapter:
    """Azure Service Bus behind the adapter contract, through ``azure.servicebus.aio``."""

    def __init__(self, config: ServiceBusConfig, *, admin_client: Any = None) -> None:
        self._config = config
        self._scrub = Scrubber(config.secrets())
        self._capabilities = capabilities_for(config.max_message_bytes)
        self._client: ServiceBusClient | None = None
        self._credential: Any = None
        self._publishers: dict[str, Publisher] = {}
        self._subscriptions: set[ServiceBusSubscription] = set()
        self._dead_letter_ready: set[str] = set()
        self._provisioner = (
            Provisioner(config, self._scrub, admin_client) if config.provision else None
        )
        self._groups = ServiceBusGroups(self._require_client, config, self._scrub, admin_client)

    @classmethod
    def from_url(cls, url: str) -> ServiceBusAdapter:
        return cls(parse_servicebus_url(url))

    def __repr__(self) -> str:
        return f"ServiceBusAdapter({self._config.describe()!r})"

    @property
    def name(self) -> str:
        return ADAPTER_NAME

    @property
    def capabilities(self) -> Capabilities:
        return self._capabilities

    @property
    def config(self) -> ServiceBusConfig:
        return self._config

    # -- lifecycle ------------------------------------------------------------------------------

    async def connect(self) -> None:
        if self._client is not None:
            return
        config = self._config
        options: dict[str, Any] = {"retry_total": config.retry_total}
        with translated(f"could not connect to {config.describe()}", self._scrub):
            if config.connection_string is not None:
                self._client = ServiceBusClient.from_connection_string(
                    config.connection_string, **options
                )
                return
            credential = config.credential
            if credential is None:
                credential = self._credential = default_credential()
            self._client = ServiceBusClient(config.fully_qualified_namespace, credential, **options)

    async def close(self) -> None:
        for subscription in list(self._subscriptions):
            await subscription.close()
        for publisher in self._publishers.values():
            try:
                await publisher.close()
            except Exception:
                log.debug("eventbus: closing a sender failed", exc_info=True)
        self._publishers.clear()
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self._credential is not None:
            await self._credential.close()
            self._credential = None
        if self._provisioner is not None:
            self._provisioner.close()

    def _require_client(self) -> ServiceBusClient:
        if self._client is None:
            raise BrokerConnectionError("the servicebus adapter is not connected (call connect())")
        return self._client

    # -- browsing and groups (the optional protocols; nothing is created) -----------------------

    async def browse(self, channel: str, group: str, *, limit: int) -> list[Browsed]:
        self._require_client()
        return await self._groups.browse(channel, group, limit)

    async def list_groups(self, channel: str | None = None) -> list[GroupInfo]:
        self._require_client()
        return await self._groups.list_groups(channel)

    async def delete_group(self, channel: str, group: str) -> None:
        self._require_client()
        await self._groups.delete_group(channel, group)

    async def retention_problem(self, channel: str) -> str | None:
        self._require_client()
        return await self._groups.retention_problem(channel)

    # -- publishing -----------------------------------------------------------------------------

    def _publisher(self, channel: str, queue: bool | None = None) -> Publisher:
        publisher = self._publishers.get(channel)
        if publisher is None:
            if queue is None:
                queue = channel in self._config.queues
            publisher = Publisher(
                self._require_client(),
                channel,
                queue,
                self._config.socket_timeout,
            )
            self._publishers[channel] = publisher
        return publisher

    async def _provisioned(self, channel: str) -> None:
        if self._provisioner is not None:
            await (
                self._provisioner.queue
                if channel in self._config.queues
                else self._provisioner.topic
            )(channel)

    async def publish(self, channel: str, messages: Sequence[Message]) -> None:
        if not messages:
            return
        publisher = self._publisher(channel)
        await self._provisioned(channel)
        with translated(
            f"could not publish to {channel!r} on {self._config.describe()}",
            self._scrub,
            publishing=True,
        ):
            await publisher.send(messages)

    # -- request-reply (ReplyingAdapter; see _replies) -------------------------------------------

    async def listen_replies(
        self, on_reply: Callable[[Message], None], on_no_responders: Callable[[str], None]
    ) -> ServiceBusReplies:
        """A session receiver of its own on the reply queue, attached before this returns."""
        config, queue, session = self._config, self._config.reply_queue, new_session_id()
        if self._provisioner is not None:
            await self._provisioner.queue(queue, sessions=True)
        client = self._require_client()
        options: dict[str, Any] = {
            "session_id": session,
            "receive_mode": ServiceBusReceiveMode.RECEIVE_AND_DELETE,
            "prefetch_count": 0,
        }
        if config.socket_timeout is not None:
            options["socket_timeout"] = config.socket_timeout
        receiver = client.get_queue_receiver(queue, **options)
        shorten_further_pull(receiver)
        replies = ServiceBusReplies(
            receiver, queue, session, on_reply, self._scrub, config.receive_wait
        )
        await replies.start()
        return replies

    async def publish_request(self, channel: str, message: Message, reply_to: str) -> None:
        queue, session = split_reply_to(reply_to)
        publisher = self._publisher(channel)
        await self._provisioned(channel)
        request = to_servicebus(message)
        request.reply_to = queue
        request.reply_to_session_id = session
        with translated(
            f"could not publish to {channel!r} on {self._config.describe()}",
            self._scrub,
            publishing=True,
        ):
            await publisher.send_one(request)

    async def publish_reply(self, reply_to: str, message: Message) -> None:
        queue, session = split_reply_to(reply_to)
        reply = to_servicebus(message)
        reply.session_id = session  # the requester's session: only it receives the reply
        reply.time_to_live = REPLY_TTL
        with translated(f"could not reply to queue {queue!r}", self._scrub, publishing=True):
            await self._publisher(queue, queue=True).send_one(reply)

    async def _publish_dead(self, dead: DeadLetter) -> None:
        await self.publish(dead.channel, [dead.message])

    async def _reschedule(self, channel: str, delivery: ServiceBusDelivery, delay: float) -> None:
        message = delivery.message
        copy = to_servicebus(message, {ATTEMPTS_PROPERTY: delivery.attempt})
        # A new MessageId: duplicate detection would drop the copy under the original one.
        copy.message_id = f"{message.dedupe_id or uuid.uuid4().hex}~retry{delivery.attempt}"
        with translated(f"could not schedule a redelivery on {channel!r}", self._scrub):
            await self._publisher(channel).schedule(copy, delay)

    # -- subscribing ----------------------------------------------------------------------------

    def _receiver(
        self, channel: str, name: str | None, sub_queue: Any, session: Any = None
    ) -> ServiceBusReceiver:
        client, config = self._require_client(), self._config
        options: dict[str, Any] = {
            "receive_mode": ServiceBusReceiveMode.PEEK_LOCK,
            "prefetch_count": 0,
            "max_wait_time": config.receive_wait,
            "sub_queue": sub_queue,
        }
        if config.socket_timeout is not None:
            options["socket_timeout"] = config.socket_timeout
        if session is not None:
            options["session_id"] = session
        if name is None:
            receiver = client.get_queue_receiver(channel, **options)
        else:
            receiver = client.get_subscription_receiver(channel, name, **options)
        shorten_further_pull(receiver)
        return receiver

    async def _ensure(
        self,
        channel: str,
        name: str | None,
        fan_out: bool = False,
        probe: bool = True,
        sessions: bool = False,
    ) -> None:
        """Make sure the subscription (or queue) exists before messages are sent to it."""
        if self._provisioner is not None:
            if name is None:
                await self._provisioner.queue(channel, sessions)
            else:
                await self._provisioner.subscription(channel, name, fan_out, sessions)
            return
        if not probe:
            return  # the receiver about to open proves it
        # Attaching proves it exists (the emulator and the test broker create it on attach,
        # session-enabled when the first receiver asks for a session).
        receiver = self._receiver(channel, name, None, "eventbus-probe" if sessions else None)
        with translated(f"subscription {name!r} of {channel!r} is not usable", self._scrub):
            async with receiver:
                pass

    async def _ensure_dead_letter(self, channel: str) -> None:
        if channel in self._dead_letter_ready:
            return
        queue = channel in self._config.queues
        sessions = self._config.sessions  # the dead-letter reader is not an ordered subscriber
        await self._ensure(channel, None if queue else DEAD_LETTER_GROUP, sessions=sessions)
        self._dead_letter_ready.add(channel)

    async def _open(self, receiver: ServiceBusReceiver, channel: str) -> None:
        with translated(f"could not receive from {channel!r}", self._scrub):
            await receiver.__aenter__()

    async def subscribe(self, spec: SubscriptionSpec, deliver: Deliver) -> ServiceBusSubscription:
        self._require_client()
        config, channel, group = self._config, spec.channel, spec.group
        sub_queue = None
        if group is not None and group.lower().endswith(_NATIVE_DLQ):
            group, sub_queue = group[: -len(_NATIVE_DLQ)], ServiceBusSubQueue.DEAD_LETTER
        if group is not None:
            config.check_subscription_name(group)
        if not spec.ack_wait > 0:
            raise ConfigurationError(f"ack_wait must be > 0 seconds, got {spec.ack_wait!r}")
        queue = channel in config.queues
        if queue and group is None:
            raise ConfigurationError(
                f"channel {channel!r} is a Service Bus queue: subscribe with a consumer group "
                "(its subscribers compete for its messages)"
            )
        fan_out = group is None
        name = None if queue else (group or f"eb-{uuid.uuid4().hex[:16]}")
        sessions = (config.sessions or spec.ordered) and sub_queue is None
        ready = [self._ensure(channel, name, fan_out, probe=sessions, sessions=sessions)]
        if (
            spec.dead_letter_channel is not None
            and sub_queue is None
            and not config.native_dead_letter
        ):
            ready.append(self._ensure_dead_letter(spec.dead_letter_channel))
        receiver = None if sessions else self._receiver(channel, name, sub_queue)
        # Provisioning first (the receiver would not find the entity); otherwise the attach
        # proves the subscription exists, so it runs beside the dead-letter check.
        attach_now = receiver is not None and self._provisioner is None
        if receiver is not None and attach_now:
            ready.append(self._open(receiver, channel))
        results = await asyncio.gather(*ready, return_exceptions=True)
        failed = next((r for r in results if isinstance(r, BaseException)), None)
        if failed is None and receiver is not None and not attach_now:
            try:
                await self._open(receiver, channel)
            except BaseException as exc:
                failed = exc
        if failed is not None:
            if receiver is not None:
                await receiver.close()
            raise failed
        options = ReceiveOptions(
            max_in_flight=spec.max_in_flight,
            receive_wait=config.receive_wait,
            session_idle=config.session_idle,
            scrub=self._scrub,
            reschedule=(lambda d, s: self._reschedule(channel, d, s)) if queue else None,
            publish_dead=None if config.native_dead_letter else self._publish_dead,
        )
        loop: SingleLoop | SessionLoop
        if receiver is None:
            workers = min(spec.max_in_flight, config.max_concurrent_sessions)
            loop = SessionLoop(
                lambda s: self._receiver(channel, name, None, s), deliver, options, workers
            )
        else:
            loop = SingleLoop(receiver, deliver, options)
        remove = (channel, name) if fan_out and name is not None and self._provisioner else None
        subscription = ServiceBusSubscription(self, loop, remove)
        self._subscriptions.add(subscription)
        loop.start()
        return subscription
