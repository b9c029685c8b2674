"""Transfers of the test broker: handing messages out, taking them in, settlement echoes.

Ready messages go to the consumers with credit one each in turn (competing receivers share the
work). Incoming transfers are single messages or batches (data sections that each hold a whole
message). Settlement follows the SDK's rules: the client sends its outcome unsettled and blocks
until the broker echoes it settled; a rejected echo carries no error unless the lock was lost.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from proton import Condition, Delivery, Endpoint, Message, symbol

from sb_broker._codec import Envelope, batch_messages, is_batch, split_sections, token_of_tag
from sb_broker._entities import MessageQueue, Stored
from sb_broker._namespace import Address, EntityNotFound, Namespace
from sb_broker._nodes import cbs_reply, management_reply

__all__ = ["CREDIT", "Consumer", "Transfers", "guarded"]

log = logging.getLogger("sb_broker")
CREDIT = 1000


@dataclass(eq=False)
class Consumer:
    """A client receiver: the broker's sender link reading one entity."""

    link: Any
    queue: MessageQueue
    settled_on_send: bool
    session_id: str | None = None
    wanted_session: bool = False
    waiting_until: float = 0.0
    unsettled: dict[Any, Stored] = field(default_factory=dict)


def guarded(method: Callable[..., None]) -> Callable[..., None]:
    """A broker bug is logged, not allowed to stop the reactor thread."""

    @functools.wraps(method)
    def run(self: Any, event: Any) -> None:
        try:
            method(self, event)
        except Exception:
            log.exception("sb_broker: %s failed", method.__name__)

    return run


class Transfers:
    """The transfer half of the broker's Proton handler (mixed into ``BrokerHandler``)."""

    ns: Namespace

    @guarded
    def on_link_flow(self, event: Any) -> None:
        consumer = getattr(event.link, "sb_consumer", None)
        if consumer is not None:
            with self.ns.lock:
                self._pump(consumer.queue)

    def _pump(self, queue: MessageQueue) -> None:
        """Hand ready messages to the queue's consumers with credit, one each in turn."""
        if not queue.consumers:
            return
        now = time.time()
        progress = True
        while progress:
            progress = False
            for consumer in list(queue.consumers):
                link = consumer.link
                if link.credit <= 0 or link.state & Endpoint.LOCAL_CLOSED:
                    continue
                stored = queue.take(consumer, now)
                if stored is None:
                    continue
                self._transfer(consumer, stored)
                progress = True
        queue.consumers.append(queue.consumers.pop(0))  # the next pump starts elsewhere

    def _transfer(self, consumer: Consumer, stored: Stored) -> None:
        link = consumer.link
        payload = stored.env.encode(stored.delivery_count, stored.broker_annotations())
        if consumer.settled_on_send:
            delivery = link.delivery(str(stored.seq))
            link.stream(payload)
            link.advance()
            delivery.settle()
            return
        assert stored.token is not None
        delivery = link.delivery(stored.token.bytes_le)
        link.stream(payload)
        link.advance()

    @guarded
    def on_delivery(self, event: Any) -> None:
        delivery, link = event.delivery, event.link
        with self.ns.lock:
            if link.is_receiver:
                if delivery.readable and not delivery.partial:
                    self._receive(link, delivery)
            elif delivery.updated or delivery.remote_state:
                self._settle(link, delivery)

    def _receive(self, link: Any, delivery: Any) -> None:
        raw = link.recv(delivery.pending)
        link.advance()
        address = Address.parse(link.remote_target.address)
        if address.kind == "cbs":
            self._reply(link, "$cbs", cbs_reply(_decode(raw), self.ns))
        elif address.kind == "management":
            request = _decode(raw)
            reply = management_reply(request, self.ns, address.entity)
            self._reply(link, request.reply_to or "", reply)
            for queue in self.ns.all_queues():
                self._pump(queue)
        else:
            try:
                target = self.ns.target(address)
            except EntityNotFound:
                delivery.local.condition = Condition("amqp:not-found", address.entity)
                delivery.update(Delivery.REJECTED)
                delivery.settle()
                return
            sections = split_sections(raw)
            now = time.time()
            bodies = batch_messages(sections) if is_batch(sections) else [raw]
            for body in bodies:
                self.ns.remember(address.entity, body)
                target.send(Envelope.parse(body), now)
            queues = (
                [target]
                if isinstance(target, MessageQueue)
                else list(target.subscriptions.values())
            )
            for queue in queues:
                self._pump(queue)
        delivery.update(Delivery.ACCEPTED)
        delivery.settle()
        if link.credit < CREDIT // 2:
            link.flow(CREDIT - link.credit)

    def _reply(self, link: Any, reply_to: str, message: Message) -> None:
        """Send ``message`` on the node link of the same connection that reads ``reply_to``."""
        candidate = link.connection.link_head(Endpoint.LOCAL_ACTIVE)
        wanted = reply_to.lower()
        fallback = None
        while candidate is not None:
            if candidate.is_sender and getattr(candidate, "sb_node", False):
                source = (candidate.remote_source.address or "").lower()
                if source == wanted:
                    fallback = candidate
                    break
                if candidate.session is link.session and fallback is None:
                    fallback = candidate
            candidate = candidate.next(Endpoint.LOCAL_ACTIVE)
        if fallback is not None:
            delivery = fallback.send(message)
            delivery.settle()

    def _settle(self, link: Any, delivery: Any) -> None:
        consumer: Consumer | None = getattr(link, "sb_consumer", None)
        state = delivery.remote_state
        if consumer is None or not state:
            if delivery.settled:
                delivery.settle()
            return
        queue, token, now = consumer.queue, token_of_tag(delivery.tag), time.time()
        if state == Delivery.ACCEPTED:
            done = queue.complete(token)
        elif state == Delivery.RELEASED:
            done = queue.release(token)
        elif state == Delivery.MODIFIED:
            done = queue.abandon(token, now)
        elif state == Delivery.REJECTED:
            cond = delivery.remote.condition
            info = dict(cond.info or {}) if cond is not None else {}
            reason = info.get(symbol("DeadLetterReason"), info.get("DeadLetterReason"))
            text = info.get(
                symbol("DeadLetterErrorDescription"), info.get("DeadLetterErrorDescription")
            )
            done = queue.dead_letter(token, reason, text, now)
        else:
            return
        if not delivery.settled:
            if not done and state != Delivery.RELEASED:
                delivery.local.condition = Condition(
                    "com.microsoft:message-lock-lost",
                    "The lock supplied is invalid. Either the lock expired, or the message has "
                    "already been removed from the queue.",
                )
                delivery.update(Delivery.REJECTED)
            else:
                delivery.update(state)
        delivery.settle()
        self._pump(queue)


def _decode(raw: bytes) -> Message:
    message = Message()
    message.decode(raw)
    return message
