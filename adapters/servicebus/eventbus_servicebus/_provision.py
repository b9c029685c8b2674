"""``provision=true``: create missing topics, subscriptions and queues on a real namespace.

Uses the SDK's (synchronous) ``ServiceBusAdministrationClient`` in a worker thread, so no async
HTTP stack is needed. Topics and queues get duplicate detection (window ``duplicate_window``);
subscriptions get ``lock_duration``, ``max_delivery_count`` and, for ordered subscribers (or
all with ``sessions=true``), require sessions; fan-out subscriptions (no consumer group) delete themselves after five idle minutes,
and the adapter deletes them when the subscription closes. The test broker has no
administration API: there, entities are created on first use instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from datetime import timedelta
from typing import Any

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError

from eventbus.adapter import Scrubber
from eventbus_servicebus._config import ServiceBusConfig
from eventbus_servicebus._errors import translated

__all__ = ["Provisioner"]

FAN_OUT_IDLE = timedelta(minutes=5)


def admin_client(config: ServiceBusConfig) -> Any:
    from azure.servicebus.management import ServiceBusAdministrationClient

    if config.connection_string is not None:
        return ServiceBusAdministrationClient.from_connection_string(config.connection_string)
    credential = config.credential
    if credential is None or inspect.iscoroutinefunction(getattr(credential, "get_token", None)):
        from azure.identity import DefaultAzureCredential  # the admin client is synchronous

        credential = DefaultAzureCredential()
    return ServiceBusAdministrationClient(config.fully_qualified_namespace, credential)


class Provisioner:
    """Creates what is missing, once per entity and adapter."""

    def __init__(self, config: ServiceBusConfig, scrub: Scrubber, client: Any = None) -> None:
        self._config = config
        self._scrub = scrub
        self._client = client
        self._done: set[tuple[str, ...]] = set()

    def _admin(self) -> Any:
        if self._client is None:
            self._client = admin_client(self._config)
        return self._client

    async def _run(
        self, key: tuple[str, ...], action: str, *calls: tuple[str, tuple[Any, ...], dict[str, Any]]
    ) -> None:
        if key in self._done:
            return
        admin = self._admin()

        def work() -> None:
            for method, args, kwargs in calls:
                with contextlib.suppress(ResourceExistsError):
                    getattr(admin, method)(*args, **kwargs)

        with translated(action, self._scrub):
            await asyncio.to_thread(work)
        self._done.add(key)

    def _entity_options(self) -> dict[str, Any]:
        return {
            "requires_duplicate_detection": True,
            "duplicate_detection_history_time_window": timedelta(
                seconds=self._config.duplicate_window
            ),
        }

    async def topic(self, name: str) -> None:
        await self._run(
            ("topic", name),
            f"could not create topic {name!r}",
            ("create_topic", (name,), self._entity_options()),
        )

    async def queue(self, name: str, sessions: bool = False) -> None:
        options = {
            **self._entity_options(),
            "lock_duration": timedelta(seconds=self._config.lock_duration),
            "max_delivery_count": self._config.max_delivery_count,
            "requires_session": sessions or self._config.sessions,
        }
        await self._run(
            ("queue", name), f"could not create queue {name!r}", ("create_queue", (name,), options)
        )

    async def subscription(
        self, topic: str, name: str, fan_out: bool, sessions: bool = False
    ) -> None:
        await self.topic(topic)
        options: dict[str, Any] = {
            "lock_duration": timedelta(seconds=self._config.lock_duration),
            "max_delivery_count": self._config.max_delivery_count,
            "requires_session": sessions or self._config.sessions,
        }
        if fan_out:
            options["auto_delete_on_idle"] = FAN_OUT_IDLE
        await self._run(
            ("subscription", topic, name),
            f"could not create subscription {name!r} of topic {topic!r}",
            ("create_subscription", (topic, name), options),
        )

    async def delete_subscription(self, topic: str, name: str) -> None:
        admin = self._admin()

        def work() -> None:
            with contextlib.suppress(ResourceNotFoundError):
                admin.delete_subscription(topic, name)

        with translated(f"could not delete subscription {name!r}", self._scrub):
            await asyncio.to_thread(work)
        self._done.discard(("subscription", topic, name))

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
