"""The responder side: answer a request through the adapter (or the emulated reply channel)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from eventbus._adapter._contract import Adapter, ReplyingAdapter
from eventbus._rpc._attributes import REPLY_TO, expired, reply_event
from eventbus._wire._event import Event
from eventbus._wire._message import Message

__all__ = ["Replier"]

log = logging.getLogger("eventbus")


class Replier:
    """Sends the reply to a request a subscription handled (see ``Subscription._answer``)."""

    def __init__(self, adapter: Adapter, to_message: Callable[[Event[Any]], Message]) -> None:
        self._adapter = adapter
        self._to_message = to_message
        self._native = isinstance(adapter, ReplyingAdapter)

    @staticmethod
    def expired(request: Event[Any]) -> bool:
        return expired(request)

    async def reply(self, request: Event[Any], result: object, error: BaseException | None) -> bool:
        """Answer ``request``; False (logged) when the reply could not be sent."""
        reply_to = request.extensions.get(REPLY_TO)
        if not isinstance(reply_to, str) or not reply_to:
            log.warning("eventbus: request %s has an unusable %r attribute", request.id, REPLY_TO)
            return False
        try:
            message = self._to_message(reply_event(request, result, error))
            if self._native:
                await self._adapter.publish_reply(reply_to, message)  # type: ignore[attr-defined]
            else:
                await self._adapter.publish(reply_to, (message,))
        except Exception as exc:
            log.error("eventbus: could not reply to request %s: %r", request.id, exc)
            return False
        return True
