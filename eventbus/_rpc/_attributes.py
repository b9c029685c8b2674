"""The CloudEvents attributes request-reply puts on the wire, and the reply events.

A request carries ``replyto`` (where to answer), ``correlationid`` (the CloudEvents correlation
extension: kept when the caller set it, else the request's id) and ``expirytime`` (the
CloudEvents expiry extension: the requester gives up then, so a responder drops it). A reply
carries the request's ``correlationid`` and ``causationid`` = the request's ``id``: the
requester matches replies on it. An error reply carries ``errortype`` and ``errormessage``.
Any service that reads and sets these attributes can answer a request (docs/request-reply.md).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from eventbus._bus._dead_letters import sanitise
from eventbus._wire._event import Event

__all__ = [
    "ACK_TYPE",
    "CAUSATION_ID",
    "CORRELATION_ID",
    "ERROR_MESSAGE",
    "ERROR_TYPE",
    "ERROR_TYPE_EVENT",
    "EXPIRY_TIME",
    "REPLY_SOURCE",
    "REPLY_TO",
    "expired",
    "reply_event",
]

REPLY_TO = "replyto"
CORRELATION_ID = "correlationid"
CAUSATION_ID = "causationid"
EXPIRY_TIME = "expirytime"
ERROR_TYPE = "errortype"
ERROR_MESSAGE = "errormessage"

#: Types and source of the replies the bus makes itself (an empty acknowledgement, an error).
ACK_TYPE = "io.eventbus.reply.ack"
ERROR_TYPE_EVENT = "io.eventbus.reply.error"
REPLY_SOURCE = "urn:eventbus:responder"
_MAX_ERROR_MESSAGE = 1024


def expired(event: Event[Any], now: datetime | None = None) -> bool:
    """True when ``event`` has an ``expirytime`` at or before ``now`` (an unreadable one is
    ignored: the request is handled)."""
    value = event.extensions.get(EXPIRY_TIME)
    if value is None:
        return False
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return False
    if not isinstance(value, datetime):
        return False
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value <= (now or datetime.now(UTC))


def reply_event(request: Event[Any], result: object, error: BaseException | None) -> Event[Any]:
    """The reply to ``request``: the handler's returned event, an empty acknowledgement when it
    returned None, or an error reply naming the exception it raised."""
    if error is None and result is not None and not isinstance(result, Event):
        error = TypeError(
            f"a handler answering a request must return an Event or None, "
            f"not {type(result).__name__}"
        )
    links: dict[str, Any] = {
        CORRELATION_ID: request.extensions.get(CORRELATION_ID, request.id),
        CAUSATION_ID: request.id,
        REPLY_TO: None,
        EXPIRY_TIME: None,
    }
    if error is not None:
        links[ERROR_TYPE] = type(error).__name__
        links[ERROR_MESSAGE] = sanitise(str(error), _MAX_ERROR_MESSAGE)
        return Event(type=ERROR_TYPE_EVENT, source=REPLY_SOURCE).with_extensions(**links)
    if isinstance(result, Event):
        return result.with_extensions(**links)
    return Event(type=ACK_TYPE, source=REPLY_SOURCE).with_extensions(**links)
