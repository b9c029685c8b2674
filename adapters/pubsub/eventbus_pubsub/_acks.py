"""Acks and ack-deadline changes of one subscription, batched into few RPCs.

Settlements made while the event loop is busy are sent together by one task, as Acknowledge
and ModifyAckDeadline requests of at most 1,000 ack IDs (``modify_ack_deadline(0)`` is a nack).

At-least-once (the default): Pub/Sub does not confirm acks, so nobody waits for them. A request
that fails transiently is sent again by the client's retry policy (for up to ``timeout``
seconds); one that still fails is logged, and its messages come back after their ack deadline.

Exactly-once delivery: Pub/Sub confirms every ack ID, and ``ack()`` returns a future that
resolves to None once the ack is confirmed, or to the reason it is not (the message was not
acked: it comes back). Each ack ID of a failed request is judged as google-cloud-pubsub does:

- listed in the error's ErrorInfo (reason ``EXACTLY_ONCE_ACKID_FAILURE``, metadata ack ID ->
  reason): ``TRANSIENT_FAILURE_*`` is sent again; anything else (``PERMANENT_FAILURE_INVALID_ACK_ID``
  when the ack ID expired, ...) failed;
- not listed while others are: applied (Pub/Sub lists each ack ID that failed; the Python and
  Go clients report these as failed too, which would turn one expired ack ID into a failure of
  the whole batch);
- no per-ack-ID list: the request's status decides, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED,
  ABORTED, INTERNAL and UNAVAILABLE (and time-outs) are sent again, any other status failed.

Sent again after 0.1 s, doubling up to 10 s, until the ack deadline has passed since the first
failure: by then the ack ID has expired and the message is being redelivered, so the ack
failed. Ack-deadline changes (lease extensions, nacks) are retried the same way; one that fails
for good is logged and counted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import grpc
from google.api_core import exceptions as gexc
from google.pubsub_v1 import types

from eventbus.adapter import AdapterError
from eventbus_pubsub._client import Clients, retry_policy
from eventbus_pubsub._errors import describe

__all__ = ["AckQueue", "AckStats", "PubSubAckError"]

log = logging.getLogger("eventbus.pubsub")
_AckRequest: Any = types.AcknowledgeRequest.pb()
_ModAckRequest: Any = types.ModifyAckDeadlineRequest.pb()
_MAX_IDS = 1000
_EXACTLY_ONCE_FAILURE = "EXACTLY_ONCE_ACKID_FAILURE"
_TRANSIENT_CODES = frozenset(
    {
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNAVAILABLE,
    }
)
_FIRST_RETRY = 0.1
_MAX_RETRY = 10.0
_CLOSED = "the subscription closed before Pub/Sub confirmed the ack"


class PubSubAckError(AdapterError):
    """Pub/Sub did not confirm an ack (exactly-once delivery): the message was not acked and
    comes back, to this or another subscriber. ``reason`` is Pub/Sub's (e.g.
    ``PERMANENT_FAILURE_INVALID_ACK_ID``, or a gRPC status)."""

    def __init__(self, subscription: str, message_id: str, reason: str) -> None:
        self.subscription = subscription
        self.message_id = message_id
        self.reason = reason
        super().__init__(
            f"Pub/Sub did not confirm the ack of message {message_id!r} on {subscription}: "
            f"{reason}; the message was not acked and will be delivered again"
        )


@dataclass(slots=True)
class AckStats:
    """What became of one subscription's acks (exactly-once delivery confirms them)."""

    confirmed: int = 0  # acks Pub/Sub confirmed
    failed: int = 0  # acks that failed for good: those messages come back
    retried: int = 0  # ack IDs sent again (acks and deadline changes) after a transient failure
    modacks_failed: int = 0  # ack-deadline changes (extensions, nacks) that failed for good


_Key = tuple[str, int | None]  # (ack ID, deadline seconds or None for an ack)


@dataclass(slots=True)
class _Retry:
    first: float  # when the first failure came back (loop time)
    delay: float
    handle: asyncio.TimerHandle | None = None


def _failure(exc: Exception, ids: Sequence[str]) -> tuple[dict[str, str], str, bool]:
    """(per-ack-ID reasons, the request's reason, whether the request's failure is transient)."""
    if isinstance(exc, gexc.GoogleAPICallError):
        per_id: dict[str, str] = {}
        metadata = exc.metadata
        if exc.reason == _EXACTLY_ONCE_FAILURE and metadata:
            wanted = set(ids)
            per_id = {k: str(v) for k, v in metadata.items() if k in wanted}
        code = exc.grpc_status_code
        return per_id, describe(exc), code in _TRANSIENT_CODES
    if isinstance(exc, (TimeoutError, OSError)):
        return {}, describe(exc), True
    return {}, describe(exc), False


class AckQueue:
    def __init__(
        self,
        clients: Clients,
        subscription: str,
        timeout: float,
        *,
        exactly_once: bool = False,
        ack_deadline: float = 10.0,
    ) -> None:
        self._subscriber = clients.subscriber
        self._path = subscription
        self._timeout = timeout
        self._exactly_once = exactly_once
        # exactly-once: each ack ID's failure is judged here, not by retrying whole requests
        self._retry = None if exactly_once else retry_policy(timeout)
        self._budget = ack_deadline
        self.stats = AckStats()
        self._acks: list[str] = []
        self._modacks: dict[int, list[str]] = {}
        self._waiters: dict[str, asyncio.Future[str | None]] = {}
        self._retries: dict[_Key, _Retry] = {}
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def ack(self, ack_id: str) -> asyncio.Future[str | None] | None:
        """Queue an ack. Exactly-once: a future of None (confirmed) or why it was not."""
        waiter = None
        if self._exactly_once:
            waiter = asyncio.get_running_loop().create_future()
            if self._closed:
                waiter.set_result(_CLOSED)
                return waiter
            self._waiters[ack_id] = waiter
        self._acks.append(ack_id)
        self._schedule()
        return waiter

    def modack(self, ack_id: str, seconds: int) -> None:
        ids = self._modacks.get(seconds)
        if ids is None:
            self._modacks[seconds] = [ack_id]
        else:
            ids.append(ack_id)
        self._schedule()

    def nack_many(self, ack_ids: Sequence[str]) -> None:
        if ack_ids:
            self._modacks.setdefault(0, []).extend(ack_ids)
            self._schedule()

    async def flush(self) -> None:
        """Wait until everything queued so far is sent (not for retries waiting their turn)."""
        while self._task is not None:
            await asyncio.shield(self._task)

    def close(self) -> None:
        """Drop what is still queued or waiting for a retry (after ``flush``); unconfirmed acks
        resolve as failed. Settlements after close do nothing."""
        self._closed = True
        self._acks.clear()
        self._modacks.clear()
        for retry in self._retries.values():
            if retry.handle is not None:
                retry.handle.cancel()
        self._retries.clear()
        waiters, self._waiters = self._waiters, {}
        for waiter in waiters.values():
            if not waiter.done():
                waiter.set_result(_CLOSED)

    def _schedule(self) -> None:
        if self._closed:
            self._acks.clear()
            self._modacks.clear()
            return
        if self._task is None:
            loop = asyncio.get_running_loop()
            self._task = loop.create_task(self._run(), name=f"eventbus-pubsub-acks:{self._path}")

    async def _run(self) -> None:
        try:
            while self._acks or self._modacks:
                acks, self._acks = self._acks, []
                modacks, self._modacks = self._modacks, {}
                sends = [
                    self._send(None, acks[i : i + _MAX_IDS]) for i in range(0, len(acks), _MAX_IDS)
                ]
                for seconds, ids in modacks.items():
                    sends += [
                        self._send(seconds, ids[i : i + _MAX_IDS])
                        for i in range(0, len(ids), _MAX_IDS)
                    ]
                await asyncio.gather(*sends)
        finally:
            self._task = None

    async def _send(self, seconds: int | None, ids: list[str]) -> None:
        try:
            if seconds is None:
                request = types.AcknowledgeRequest.wrap(
                    _AckRequest(subscription=self._path, ack_ids=ids)
                )
                await self._subscriber.acknowledge(
                    request=request, retry=self._retry, timeout=self._timeout
                )
            else:
                request = types.ModifyAckDeadlineRequest.wrap(
                    _ModAckRequest(
                        subscription=self._path, ack_ids=ids, ack_deadline_seconds=seconds
                    )
                )
                await self._subscriber.modify_ack_deadline(
                    request=request, retry=self._retry, timeout=self._timeout
                )
        except Exception as exc:
            if self._exactly_once:
                self._judge(seconds, ids, exc)
            else:
                log.warning(
                    "eventbus: Pub/Sub %s of %d message(s) on %s failed: %s; unsettled messages "
                    "are redelivered after their ack deadline",
                    _what(seconds),
                    len(ids),
                    self._path,
                    describe(exc),
                )
            return
        if self._exactly_once:
            self._settle(seconds, ids, None)

    def _judge(self, seconds: int | None, ids: list[str], exc: Exception) -> None:
        """Exactly-once: sort the ack IDs of a failed request into applied, again and failed."""
        per_id, reason, transient = _failure(exc, ids)
        applied: list[str] = []
        again: list[tuple[str, str]] = []
        failed: dict[str, str] = {}
        for ack_id in ids:
            own = per_id.get(ack_id)
            if own is not None:
                if own.startswith("TRANSIENT_"):
                    again.append((ack_id, own))
                else:
                    failed[ack_id] = own
            elif per_id:
                applied.append(ack_id)
            elif transient:
                again.append((ack_id, reason))
            else:
                failed[ack_id] = reason
        if applied:
            self._settle(seconds, applied, None)
        now = asyncio.get_running_loop().time()
        delays: list[float] = []
        for ack_id, why in again:
            delay = self._retry_later((ack_id, seconds), now)
            if delay is None:
                failed[ack_id] = f"{why} (still failing after {self._budget:g} s)"
            else:
                delays.append(delay)
        if delays:
            self.stats.retried += len(delays)
            log.debug(
                "eventbus: Pub/Sub %s of %d message(s) on %s failed transiently (%s); sending "
                "again in %.1f s",
                _what(seconds),
                len(delays),
                self._path,
                reason,
                min(delays),
            )
        if failed:
            log.warning(
                "eventbus: Pub/Sub %s of %d message(s) on %s failed for good (%s)%s",
                _what(seconds),
                len(failed),
                self._path,
                next(iter(failed.values())),
                "; those messages were not acked and come back" if seconds is None else "",
            )
            for ack_id, why in failed.items():
                self._settle(seconds, [ack_id], why)

    def _retry_later(self, key: _Key, now: float) -> float | None:
        """Send the ack ID again after a backoff; None once its ack deadline has passed."""
        retry = self._retries.get(key)
        if retry is None:
            retry = self._retries[key] = _Retry(now, _FIRST_RETRY)
        else:
            retry.delay = min(retry.delay * 2, _MAX_RETRY)
        if now + retry.delay - retry.first > self._budget:
            return None
        loop = asyncio.get_running_loop()
        retry.handle = loop.call_later(retry.delay, self._again, key)
        return retry.delay

    def _again(self, key: _Key) -> None:
        retry = self._retries.get(key)
        if self._closed or retry is None:
            return
        retry.handle = None
        ack_id, seconds = key
        if seconds is None:
            self._acks.append(ack_id)
        else:
            self._modacks.setdefault(seconds, []).append(ack_id)
        self._schedule()

    def _settle(self, seconds: int | None, ids: list[str], reason: str | None) -> None:
        """Exactly-once: these ack IDs are done, confirmed (reason None) or failed."""
        stats = self.stats
        for ack_id in ids:
            self._retries.pop((ack_id, seconds), None)
            if seconds is not None:
                if reason is not None:
                    stats.modacks_failed += 1
                continue
            if reason is None:
                stats.confirmed += 1
            else:
                stats.failed += 1
            waiter = self._waiters.pop(ack_id, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(reason)


def _what(seconds: int | None) -> str:
    if seconds is None:
        return "ack"
    return "nack" if seconds == 0 else "ack deadline change"
