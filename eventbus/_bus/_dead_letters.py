"""The dead letter of a message: annotated with the failure, and small enough to be stored.

A dead letter is the original message plus extension attributes recording why it failed
(:data:`DEAD_LETTER_ATTRIBUTES`). A message near the broker's size limit may not fit once
annotated, so :func:`dead_letter_forms` yields ever smaller forms and the consumer stores the
first one the broker takes:

1. ``full``: every attribute, the error text up to 512 characters;
2. ``short``: reason, error type, attempts, channel, time and the error text up to 120 characters;
3. ``truncated``: the short attributes plus ``deadlettertruncated`` (the original body's size
   in bytes) as headers, and the first bytes of the body that fit. Such a dead letter is marked
   as not being the whole event: its body may not decode (for a structured-mode original the
   JSON is cut), its reason is in the headers where the dead-letter tools read it. When even
   the headers are too large, only the CloudEvents identity headers (id, source, type,
   specversion) are kept besides the annotation, and the body shrinks to nothing if need be.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any, Final

import msgspec

from eventbus._adapter._contract import Adapter, DeadLetter, Delivery, Limits, SubscriptionSpec
from eventbus._bus._ratelimit import RateLimitedLog
from eventbus._errors import DecodeError, LimitExceededError, RejectedEventError
from eventbus._wire._bindings import annotate
from eventbus._wire._message import Message
from eventbus._wire._types import ExtensionValue, utc_now

__all__ = [
    "DEAD_LETTER_ATTRIBUTES",
    "DeadLetterer",
    "dead_letter_forms",
    "log_fields",
    "sanitise",
    "wire_size",
]

#: Extension attributes the bus records on a dead-lettered event.
DEAD_LETTER_ATTRIBUTES: Final = (
    "deadletterreason",  # handler-error | decode-error | data-error | a RejectedEventError's reason
    "deadlettererrortype",  # the exception's class name
    "deadlettererror",  # the exception's message (sanitised, at most 512 characters)
    "deadletterattempts",  # attempts made
    "deadletterchannel",  # the channel the event was consumed from
    "deadlettertime",  # when it was dead-lettered
    "deadlettertruncated",  # only on a truncated dead letter: the original body's size in bytes
)
"""The extension attributes the bus adds to a dead letter: ``deadletterreason``
(handler-error, decode-error, data-error, or a RejectedEventError's reason),
``deadlettererrortype`` (the exception's class), ``deadlettererror`` (its sanitised message, at
most 512 characters), ``deadletterattempts``, ``deadletterchannel`` (where it was consumed),
``deadlettertime``, and ``deadlettertruncated`` (only on a truncated one: the body's size)."""
MAX_ERROR_TEXT: Final = 512
SHORT_ERROR_TEXT: Final = 120
#: Header names (any binding) that identify the event; kept when other headers must go.
_IDENTITY: Final = frozenset(
    f"{prefix}{name}"
    for prefix in ("ce-", "cloudevents_", "cloudevents:")
    for name in ("id", "source", "type", "specversion")
)
_MAX_IDENTITY_VALUE: Final = 256
_FRAMING: Final = 16  # bytes a broker may add around the headers (NATS: "NATS/1.0\r\n" ...)
_DEDUPE_HEADER: Final = 16  # name and framing of the header a dedupe id travels in


def sanitise(text: str, limit: int = MAX_ERROR_TEXT) -> str:
    """Error text safe to record: printable, at most ``limit`` characters, never empty."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in text[: limit * 2])
    return cleaned[:limit] or "(no message)"


def wire_size(message: Message) -> int:
    """A generous estimate of the bytes a broker counts for ``message`` (UTF-8 headers with
    per-header framing, as NATS counts them), for deciding which form may fit."""
    size = len(message.body) + _FRAMING
    if message.dedupe_id is not None:  # brokers may carry it as a header (NATS: Nats-Msg-Id)
        size += _DEDUPE_HEADER + _byte_len(message.dedupe_id)
    for name, value in message.headers.items():
        size += 4 + _byte_len(name)
        size += _byte_len(value) if isinstance(value, str | bytes) else 16
    return size


def _byte_len(value: object) -> int:
    if isinstance(value, bytes):
        return len(value)
    if isinstance(value, str):
        return len(value.encode("utf-8", "surrogatepass"))
    return 16


def fits(message: Message, limits: Limits) -> bool:
    """Whether ``message`` is within the size limit by the generous estimate."""
    maximum = limits.max_message_bytes
    return maximum is None or wire_size(message) <= maximum


def dead_letter_forms(
    message: Message,
    binding: str,
    *,
    reason: str,
    exc: BaseException,
    attempt: int,
    channel: str,
    limits: Limits,
) -> Iterator[tuple[str, Message]]:
    """``(form, dead letter)`` pairs, largest first (see the module docstring)."""
    error_type = type(exc).__name__
    text = sanitise(str(exc))
    full: dict[str, ExtensionValue] = {
        "deadletterreason": reason,
        "deadlettererrortype": error_type,
        "deadlettererror": text,
        "deadletterattempts": attempt,
        "deadletterchannel": channel,
        "deadlettertime": utc_now(),
    }
    yield "full", annotate(message, binding, full)
    short: dict[str, ExtensionValue] = {
        "deadletterreason": reason,
        "deadlettererrortype": error_type,
        "deadlettererror": text[:SHORT_ERROR_TEXT],
        "deadletterattempts": attempt,
        "deadletterchannel": channel,
        "deadlettertime": full["deadlettertime"],  # tells two dead letters of one event apart
    }
    yield "short", annotate(message, binding, short)
    short["deadlettertruncated"] = len(message.body)
    head = annotate(_headers_only(message, message.headers), binding, short, in_headers=True)
    maximum = limits.max_message_bytes
    if maximum is not None and wire_size(head) >= maximum:
        identity = {
            k: v
            for k, v in message.headers.items()
            if isinstance(k, str)
            and k.lower() in _IDENTITY
            and isinstance(v, str)
            and len(v) <= _MAX_IDENTITY_VALUE
        }
        head = annotate(_headers_only(message, identity), binding, short, in_headers=True)
    body = message.body
    budget = len(body) if maximum is None else maximum - wire_size(head)
    # What the estimate says fits, then less (a broker may count differently), then no body.
    for size in dict.fromkeys((budget, budget // 2, budget // 8)):
        if 0 < size < len(body):
            yield "truncated", msgspec.structs.replace(head, body=body[:size])
    yield "truncated", head


def _headers_only(message: Message, headers: Mapping[Any, Any]) -> Message:
    return msgspec.structs.replace(message, headers=dict(headers), body=b"")


def message_id(message: Message) -> str | None:
    """The event id of a message that may not decode (for log lines)."""
    for name in ("ce-id", "cloudEvents_id", "cloudEvents:id"):
        value = message.headers.get(name)
        if isinstance(value, str):
            return sanitise(value, 200)
    return message.dedupe_id


def log_fields(
    channel: str, group: str | None, event_id: str | None, attempt: int, outcome: str
) -> dict[str, object]:
    """The ``extra=`` fields of the consumer's log lines."""
    return {
        "event_id": event_id,
        "attempt": attempt,
        "channel": channel,
        "group": group,
        "outcome": outcome,
    }


class DeadLetterer:
    """Moves the failed messages of one subscription to its dead-letter channel.

    Stores the first form of the dead letter the broker takes, then settles the delivery
    (the adapter's ``dead_letter`` where it has one, else publish and ack). If the dead letter
    cannot be stored, the delivery is nacked, never acked: the broker keeps the message.
    Every outcome is logged through ``log`` (rate-limited).
    """

    def __init__(
        self,
        adapter: Adapter,
        binding: str,
        spec: SubscriptionSpec,
        *,
        native: bool,
        log: RateLimitedLog,
    ) -> None:
        self._adapter = adapter
        self._binding = binding
        self._spec = spec
        self._native = native
        self._log = log

    async def settle(
        self,
        delivery: Delivery,
        reason: str,
        exc: BaseException,
        attempt: int,
        event_id: str | None,
    ) -> bool | None:
        """True: dead-lettered; None: dropped (no dead-letter channel); False: nacked."""
        spec = self._spec
        channel = spec.dead_letter_channel
        if event_id is None:
            event_id = message_id(delivery.message)
        error = f"{type(exc).__name__}: {sanitise(str(exc))}"

        def fields(outcome: str) -> dict[str, object]:
            return log_fields(spec.channel, spec.group, event_id, attempt, outcome)

        if channel is None:
            self._log.log(
                logging.ERROR,
                "eventbus: dropping event %s from %r after %d attempt(s) (%s) - "
                "no dead-letter channel: %s",
                event_id,
                spec.channel,
                attempt,
                reason,
                error,
                exc_info=exc,
                extra=fields("dropped"),
            )
            await delivery.ack()
            return None
        try:
            form = await self._store(delivery, channel, reason, exc, attempt, error)
        except Exception as failed:
            self._log.log(
                logging.ERROR,
                "eventbus: could not dead-letter event %s from %r to %r (%s: %s); "
                "it goes back to the broker: %s: %s",
                event_id,
                spec.channel,
                channel,
                reason,
                error,
                type(failed).__name__,
                sanitise(str(failed)),
                exc_info=failed,
                extra=fields("dead-letter-failed"),
            )
            await delivery.nack(None)
            return False
        self._log.log(
            logging.WARNING,
            "eventbus: dead-lettered event %s from %r to %r after %d attempt(s) (%s%s): %s",
            event_id,
            spec.channel,
            channel,
            attempt,
            reason,
            "" if form == "full" else f", {form} dead letter",
            error,
            exc_info=self._traceback(exc),
            extra=fields("dead-lettered"),
        )
        return True

    def _traceback(self, exc: BaseException) -> BaseException | None:
        """A failure's traceback; for an event refused as bad (rejected, undecodable), where the
        message says it all and the frames are the validator's, only at DEBUG."""
        if isinstance(exc, RejectedEventError | DecodeError):
            return exc if self._log.logger.isEnabledFor(logging.DEBUG) else None
        return exc

    async def _store(
        self,
        delivery: Delivery,
        channel: str,
        reason: str,
        exc: BaseException,
        attempt: int,
        error: str,
    ) -> str:
        """Store the largest form the broker takes; return its name."""
        limits = self._adapter.capabilities.limits
        failure: LimitExceededError | None = None
        for form, dead in dead_letter_forms(
            delivery.message,
            self._binding,
            reason=reason,
            exc=exc,
            attempt=attempt,
            channel=self._spec.channel,
            limits=limits,
        ):
            if form != "truncated" and not fits(dead, limits):
                continue  # known to be too large: do not ask the broker
            if dead.dedupe_id is not None:
                # Where broker dedupe spans both channels (a JetStream stream), the original's
                # id would make the dead letter look like a duplicate of the event itself.
                dead = msgspec.structs.replace(dead, dedupe_id=f"{dead.dedupe_id}:dead-letter")
            try:
                if self._native:
                    await delivery.dead_letter(DeadLetter(dead, channel, reason, error))
                else:
                    await self._adapter.publish(channel, [dead])
                    await delivery.ack()
            except LimitExceededError as too_large:
                failure = too_large
                continue
            return form
        assert failure is not None  # the last form is the smallest there is
        raise failure
