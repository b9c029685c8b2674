"""Browse and group administration on Service Bus (the optional adapter protocols).

Browsing is Service Bus peek: a receiver reads from a sequence number on without locking,
settling or counting a delivery, so any number of browses return the same messages. Groups are
topic subscriptions, listed and deleted with the administration client (the SDK's synchronous
``ServiceBusAdministrationClient``, in a worker thread); fan-out subscribers' own subscriptions
(``eb-...``) are not groups. Nothing here creates an entity: a missing one is named (a
namespace that creates entities on first use, as an emulator may, does it on the peek's attach).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import azure.servicebus.exceptions as sb
from azure.core.exceptions import ResourceNotFoundError
from azure.servicebus import ServiceBusReceiveMode
from azure.servicebus.aio import ServiceBusClient, ServiceBusReceiver

from eventbus.adapter import Browsed, ConfigurationError, GroupInfo, Scrubber
from eventbus_servicebus import _provision
from eventbus_servicebus._config import ServiceBusConfig
from eventbus_servicebus._convert import from_received
from eventbus_servicebus._errors import translated

__all__ = ["FAN_OUT_PREFIX", "ServiceBusGroups"]

FAN_OUT_PREFIX = "eb-"
_PEEK = 250


def _not_found(exc: sb.ServiceBusError) -> bool:
    """The entity does not exist (at attach, or as the peek request's 404)."""
    text = str(exc).lower()
    return isinstance(exc, sb.MessagingEntityNotFoundError) or (
        "not found" in text and "404" in text
    )


class ServiceBusGroups:
    """Peeks entities and manages subscriptions through the administration client."""

    def __init__(
        self,
        client: Callable[[], ServiceBusClient],
        config: ServiceBusConfig,
        scrub: Scrubber,
        admin: Any = None,
    ) -> None:
        self._client = client
        self._config = config
        self._scrub = scrub
        self._admin = admin

    def _missing(self, channel: str, group: str) -> ConfigurationError:
        where = "queue" if channel in self._config.queues else f"subscription {group!r} of topic"
        return ConfigurationError(
            f"there is no consumer group {group!r} on {channel!r} (Service Bus {where} "
            f"{channel!r}); nothing was created"
        )

    def _receiver(self, channel: str, group: str) -> ServiceBusReceiver:
        options: dict[str, Any] = {"receive_mode": ServiceBusReceiveMode.PEEK_LOCK}
        if self._config.socket_timeout is not None:
            options["socket_timeout"] = self._config.socket_timeout
        client = self._client()
        if channel in self._config.queues:
            return client.get_queue_receiver(channel, **options)
        return client.get_subscription_receiver(channel, group, **options)

    async def browse(self, channel: str, group: str, limit: int) -> list[Browsed]:
        found: list[Browsed] = []
        receiver = self._receiver(channel, group)
        try:
            with translated(f"could not peek {group!r} of {channel!r}", self._scrub):
                try:
                    await receiver.__aenter__()
                    sequence = 0
                    while len(found) < limit:
                        batch = await receiver.peek_messages(
                            max_message_count=min(_PEEK, limit - len(found)),
                            sequence_number=sequence,
                        )
                        if not batch:
                            break
                        for received in batch:
                            message, _ = from_received(received)
                            found.append(Browsed(message, received.sequence_number))
                        sequence = max(int(r.sequence_number or 0) for r in batch) + 1
                except sb.ServiceBusError as exc:
                    if _not_found(exc):
                        raise self._missing(channel, group) from None
                    raise
        finally:
            with contextlib.suppress(Exception):
                await receiver.close()
        return found

    # -- administration -------------------------------------------------------------------------

    async def _run(self, action: str, work: Callable[[Any], Any]) -> Any:
        if self._admin is None:
            self._admin = _provision.admin_client(self._config)
        admin = self._admin
        with translated(action, self._scrub):
            return await asyncio.to_thread(work, admin)

    async def list_groups(self, channel: str | None) -> list[GroupInfo]:
        def work(admin: Any) -> list[GroupInfo]:
            topics = [channel] if channel is not None else [t.name for t in admin.list_topics()]
            groups = []
            for topic in topics:
                try:
                    subscriptions = list(admin.list_subscriptions(topic))
                except ResourceNotFoundError:
                    continue
                for subscription in subscriptions:
                    name = subscription.name
                    if name.startswith(FAN_OUT_PREFIX):
                        continue
                    props = admin.get_subscription_runtime_properties(topic, name)
                    pending = props.active_message_count
                    path = f"{topic}/Subscriptions/{name}"
                    groups.append(GroupInfo(topic, name, pending, path))
            return groups

        if channel is not None and channel in self._config.queues:
            return []  # a queue is one group of its own, not a subscription
        return list(await self._run("could not list the subscriptions", work))

    async def delete_group(self, channel: str, group: str) -> None:
        if channel in self._config.queues:
            raise ConfigurationError(
                f"{channel!r} is a Service Bus queue, not a topic: it has no groups to delete"
            )

        def work(admin: Any) -> bool:
            try:
                admin.get_subscription(channel, group)
            except ResourceNotFoundError:
                return False
            admin.delete_subscription(channel, group)
            return True

        if not await self._run(f"could not delete subscription {group!r} of {channel!r}", work):
            raise self._missing(channel, group)

    async def retention_problem(self, channel: str) -> str | None:
        if channel in self._config.queues:
            return None  # a queue keeps what is sent to it

        def work(admin: Any) -> str | None:
            try:
                names = [s.name for s in admin.list_subscriptions(channel)]
            except ResourceNotFoundError:
                return f"the Service Bus topic {channel!r} does not exist"
            if any(not name.startswith(FAN_OUT_PREFIX) for name in names):
                return None
            return (
                f"the Service Bus topic {channel!r} has no subscription but fan-out subscribers' "
                "own, so what is published there is dropped (or lost when they leave)"
            )

        result: str | None = await self._run(f"could not read topic {channel!r}", work)
        return result
