"""Request-reply over the bus: the requester (``EventBus.request``), the responder side the
consumer calls for requests, the attributes on the wire and the errors (docs/request-reply.md)."""

from eventbus._rpc._attributes import (
    CAUSATION_ID,
    CORRELATION_ID,
    ERROR_MESSAGE,
    ERROR_TYPE,
    EXPIRY_TIME,
    REPLY_TO,
)
from eventbus._rpc._errors import (
    NoRespondersError,
    RemoteHandlerError,
    RequestError,
    RequestTimeoutError,
)
from eventbus._rpc._requester import Requester, RequestStats
from eventbus._rpc._responder import Replier

__all__ = [
    "CAUSATION_ID",
    "CORRELATION_ID",
    "ERROR_MESSAGE",
    "ERROR_TYPE",
    "EXPIRY_TIME",
    "REPLY_TO",
    "NoRespondersError",
    "RemoteHandlerError",
    "Replier",
    "RequestError",
    "RequestStats",
    "RequestTimeoutError",
    "Requester",
]
