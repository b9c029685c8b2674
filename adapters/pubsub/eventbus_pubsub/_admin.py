"""Topics and subscriptions: created when missing (``provision=True``) or verified.

With ``provision=False`` nothing durable is created: a missing topic or consumer-group
subscription raises ConfigurationError naming it. A fan-out subscriber's own subscription is
created either way (it is the subscriber, not infrastructure) and deleted when it closes; it
also expires on the service after a day without subscribers, in case its process died.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import timedelta

from google.api_core import exceptions as gexc
from google.pubsub_v1 import types

from eventbus.adapter import ConfigurationError
from eventbus_pubsub._client import Clients, retry_policy
from eventbus_pubsub._config import PubSubConfig, RetryBackoff
from eventbus_pubsub._errors import translated
from eventbus_pubsub._names import subscription_path, topic_path

__all__ = ["Admin", "SubscriptionPlan", "SubscriptionState"]

log = logging.getLogger("eventbus.pubsub")
_EPHEMERAL_TTL = timedelta(days=1)  # the shortest expiration Pub/Sub accepts
_EPHEMERAL_RETENTION = timedelta(minutes=10)  # the shortest retention Pub/Sub accepts
_LABELS = {"created-by": "eventbus"}


@dataclass(frozen=True, slots=True)
class SubscriptionPlan:
    """The subscription a subscriber needs (what to create when it is missing)."""

    subscription_id: str
    topic: str  # full path
    ack_deadline: int
    ephemeral: bool = False
    dead_letter_topic: str | None = None  # full path
    max_delivery_attempts: int = 5
    ordering: bool = True
    exactly_once: bool = False
    backoff: RetryBackoff | None = None
    filter: str = ""  # a Pub/Sub subscription filter (attributes only)


@dataclass(frozen=True, slots=True)
class SubscriptionState:
    """What the service has: the settings the subscriber must follow."""

    path: str
    ack_deadline: int
    ordering: bool
    exactly_once: bool
    dead_letter: bool


class Admin:
    """Creates or checks topics and subscriptions; remembers the topics it has seen."""

    def __init__(self, clients: Clients, config: PubSubConfig, where: str) -> None:
        self._clients = clients
        self._config = config
        self._where = where
        self._retry = retry_policy(config.timeout)
        self._topics: set[str] = set()
        self._pending: dict[str, asyncio.Future[None]] = {}

    def forget_topic(self, path: str) -> None:
        self._topics.discard(path)

    async def ensure_topic(self, channel: str) -> str:
        """The topic path of ``channel``, created (or checked) once per adapter.

        Concurrent callers for the same topic share one request (a burst of publishes to a new
        channel sends one CreateTopic, not one each).
        """
        path = topic_path(self._config.project, channel)
        if path in self._topics:
            return path
        task = self._pending.get(path)
        if task is None:
            task = asyncio.ensure_future(self._ensure_topic(path))
            self._pending[path] = task
            task.add_done_callback(lambda done: self._settled(path, done))
        await asyncio.shield(task)
        return path

    def _settled(self, path: str, task: asyncio.Future[None]) -> None:
        self._pending.pop(path, None)
        if not task.cancelled():
            task.exception()  # retrieved: every caller that still waits gets it too

    async def _ensure_topic(self, path: str) -> None:
        publisher, retry, timeout = self._clients.publisher, self._retry, self._config.timeout
        if self._config.provision:
            with (
                translated(f"creating topic {path}", self._where),
                contextlib.suppress(gexc.AlreadyExists),
            ):
                await publisher.create_topic(
                    request={"name": path, "labels": _LABELS}, retry=retry, timeout=timeout
                )
        else:
            with translated(f"checking topic {path}", self._where):
                try:
                    await publisher.get_topic(topic=path, retry=retry, timeout=timeout)
                except gexc.NotFound:
                    raise missing_topic(path) from None
        self._topics.add(path)

    async def ensure_subscription(self, plan: SubscriptionPlan) -> SubscriptionState:
        path = subscription_path(self._config.project, plan.subscription_id)
        subscriber, retry, timeout = self._clients.subscriber, self._retry, self._config.timeout
        if self._config.provision or plan.ephemeral:
            with translated(f"creating subscription {path}", self._where):
                try:
                    created = await subscriber.create_subscription(
                        request=_subscription(path, plan), retry=retry, timeout=timeout
                    )
                    return _state(created)
                except gexc.AlreadyExists:
                    pass
                except gexc.NotFound:
                    raise missing_topic(plan.topic, plan.dead_letter_topic) from None
        with translated(f"checking subscription {path}", self._where):
            try:
                existing = await subscriber.get_subscription(
                    subscription=path, retry=retry, timeout=timeout
                )
            except gexc.NotFound:
                raise ConfigurationError(
                    f"the Pub/Sub subscription {path!r} (on topic {plan.topic!r}) does not exist "
                    "and provision=False: create it, or let the adapter provision it"
                ) from None
        if existing.topic != plan.topic:
            raise ConfigurationError(
                f"the Pub/Sub subscription {path!r} reads topic {existing.topic!r}, not "
                f"{plan.topic!r}: delete it or use another consumer group name"
            )
        state = _state(existing)
        if plan.ordering and not state.ordering:
            log.warning(
                "eventbus: subscription %s was created without message ordering; ordering keys "
                "are not honoured on it",
                path,
            )
        return state

    async def delete_subscription(self, path: str) -> None:
        """Delete a fan-out subscriber's subscription; a failure is logged, not raised."""
        try:
            with (
                translated(f"deleting subscription {path}", self._where),
                contextlib.suppress(gexc.NotFound),
            ):
                await self._clients.subscriber.delete_subscription(
                    subscription=path, retry=self._retry, timeout=self._config.timeout
                )
        except Exception as exc:
            log.warning("eventbus: could not delete the fan-out subscription: %s", exc)


def missing_topic(path: str, other: str | None = None) -> ConfigurationError:
    names = f"{path!r}" if other is None else f"{path!r} (or the dead-letter topic {other!r})"
    return ConfigurationError(
        f"the Pub/Sub topic {names} does not exist and provision=False: create it, or let the "
        "adapter provision it"
    )


def _subscription(path: str, plan: SubscriptionPlan) -> types.Subscription:
    sub = types.Subscription(
        name=path,
        topic=plan.topic,
        ack_deadline_seconds=plan.ack_deadline,
        enable_message_ordering=plan.ordering,
        enable_exactly_once_delivery=plan.exactly_once,
        labels=_LABELS,
        filter=plan.filter,
    )
    if plan.dead_letter_topic is not None:
        sub.dead_letter_policy = types.DeadLetterPolicy(
            dead_letter_topic=plan.dead_letter_topic,
            max_delivery_attempts=plan.max_delivery_attempts,
        )
    if plan.backoff is not None:
        sub.retry_policy = types.RetryPolicy(
            minimum_backoff=timedelta(seconds=plan.backoff.minimum),
            maximum_backoff=timedelta(seconds=plan.backoff.maximum),
        )
    if plan.ephemeral:
        sub.expiration_policy = types.ExpirationPolicy(ttl=_EPHEMERAL_TTL)
        sub.message_retention_duration = _EPHEMERAL_RETENTION
    return sub


def _state(sub: types.Subscription) -> SubscriptionState:
    return SubscriptionState(
        path=sub.name,
        ack_deadline=sub.ack_deadline_seconds or 10,
        ordering=sub.enable_message_ordering,
        exactly_once=sub.enable_exactly_once_delivery,
        dead_letter=bool(sub.dead_letter_policy.dead_letter_topic),
    )
