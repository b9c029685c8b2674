"""The errors ``EventBus.request`` raises (all under ``EventBusError``)."""

from __future__ import annotations

from typing import Any

from eventbus._errors import EventBusError

__all__ = ["NoRespondersError", "RemoteHandlerError", "RequestError", "RequestTimeoutError"]


class RequestError(EventBusError):
    """A request got no usable reply."""


class RequestTimeoutError(RequestError, TimeoutError):
    """No reply came within the request's timeout (the request may still be handled: its
    ``expirytime`` tells the responder to drop it, a reply arriving later is dropped)."""


class NoRespondersError(RequestError):
    """The broker said at once that nobody receives the request (core NATS, memory://)."""


class RemoteHandlerError(RequestError):
    """The responder's handler raised: ``error_type`` and ``error_message`` are the remote
    exception's class name and text; ``reply`` is the error reply event."""

    def __init__(self, error_type: str, error_message: str, reply: Any) -> None:
        super().__init__(f"the responder's handler raised {error_type}: {error_message}")
        self.error_type = error_type
        self.error_message = error_message
        self.reply = reply
