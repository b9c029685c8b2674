"""Acks and ack-deadline changes of one subscription, batched into few RPCs.

Settlements made while the event loop is busy are sent together by one task, as Acknowledge
and ModifyAckDeadline requests of at most 1,000 ack IDs (``modify_ack_deadline(0)`` is a nack).
At-least-once acks are not confirmed by Pub/Sub anyway, so callers do not wait for them. With
exactly-once delivery an ack is confirmed: ``ack(..., confirm=True)`` returns a future, and
ack IDs that failed transiently are sent again once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from google.api_core import exceptions as gexc
from google.pubsub_v1 import types

from eventbus_pubsub._client import Clients, retry_policy
from eventbus_pubsub._errors import describe

__all__ = ["AckQueue"]

log = logging.getLogger("eventbus.pubsub")
_AckRequest: Any = types.AcknowledgeRequest.pb()
_ModAckRequest: Any = types.ModifyAckDeadlineRequest.pb()
_MAX_IDS = 1000


class AckQueue:
    def __init__(self, clients: Clients, subscription: str, timeout: float) -> None:
        self._subscriber = clients.subscriber
        self._path = subscription
        self._timeout = timeout
        self._retry = retry_policy(timeout)
        self._acks: list[str] = []
        self._modacks: dict[int, list[str]] = {}
        self._waiters: list[asyncio.Future[None]] = []
        self._retried: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def ack(self, ack_id: str, *, confirm: bool = False) -> asyncio.Future[None] | None:
        self._acks.append(ack_id)
        return self._schedule(confirm)

    def modack(self, ack_id: str, seconds: int) -> None:
        ids = self._modacks.get(seconds)
        if ids is None:
            self._modacks[seconds] = [ack_id]
        else:
            ids.append(ack_id)
        self._schedule(False)

    def nack_many(self, ack_ids: Sequence[str]) -> None:
        if ack_ids:
            self._modacks.setdefault(0, []).extend(ack_ids)
            self._schedule(False)

    async def flush(self) -> None:
        """Wait until everything queued so far is sent."""
        while self._task is not None:
            await asyncio.shield(self._task)

    def close(self) -> None:
        """Drop what is still queued (after ``flush``): settlements after close do nothing."""
        self._closed = True
        self._acks.clear()
        self._modacks.clear()

    def _schedule(self, confirm: bool) -> asyncio.Future[None] | None:
        if self._closed:
            self._acks.clear()
            self._modacks.clear()
            return None
        loop = asyncio.get_running_loop()
        waiter = None
        if confirm:
            waiter = loop.create_future()
            self._waiters.append(waiter)
        if self._task is None:
            self._task = loop.create_task(self._run(), name=f"eventbus-pubsub-acks:{self._path}")
        return waiter

    async def _run(self) -> None:
        try:
            while self._acks or self._modacks:
                acks, self._acks = self._acks, []
                modacks, self._modacks = self._modacks, {}
                waiters, self._waiters = self._waiters, []
                sends = [
                    self._send_acks(acks[i : i + _MAX_IDS]) for i in range(0, len(acks), _MAX_IDS)
                ]
                for seconds, ids in modacks.items():
                    sends += [
                        self._send_modacks(ids[i : i + _MAX_IDS], seconds)
                        for i in range(0, len(ids), _MAX_IDS)
                    ]
                await asyncio.gather(*sends)
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_result(None)
        finally:
            self._task = None
            for waiter in self._waiters:
                if not waiter.done():
                    waiter.set_result(None)
            self._waiters.clear()

    async def _send_acks(self, ids: list[str]) -> None:
        request = types.AcknowledgeRequest.wrap(_AckRequest(subscription=self._path, ack_ids=ids))
        try:
            await self._subscriber.acknowledge(
                request=request, retry=self._retry, timeout=self._timeout
            )
        except Exception as exc:
            self._failed("ack", ids, exc)

    async def _send_modacks(self, ids: list[str], seconds: int) -> None:
        request = types.ModifyAckDeadlineRequest.wrap(
            _ModAckRequest(subscription=self._path, ack_ids=ids, ack_deadline_seconds=seconds)
        )
        try:
            await self._subscriber.modify_ack_deadline(
                request=request, retry=self._retry, timeout=self._timeout
            )
        except Exception as exc:
            self._failed("nack" if seconds == 0 else "ack deadline change", ids, exc)

    def _failed(self, what: str, ids: list[str], exc: Exception) -> None:
        """Exactly-once: ack IDs reported as transient failures go out once more."""
        failures = (
            getattr(exc, "metadata", None) if isinstance(exc, gexc.GoogleAPICallError) else None
        )
        if what == "ack" and isinstance(failures, dict):
            again = [
                i
                for i in ids
                if str(failures.get(i, "")).startswith("TRANSIENT_") and i not in self._retried
            ]
            if again:
                if len(self._retried) > 10_000:
                    self._retried.clear()
                self._retried.update(again)
                self._acks.extend(again)
        log.warning(
            "eventbus: Pub/Sub %s of %d message(s) on %s failed: %s; unsettled messages are "
            "redelivered after their ack deadline",
            what,
            len(ids),
            self._path,
            describe(exc),
        )
