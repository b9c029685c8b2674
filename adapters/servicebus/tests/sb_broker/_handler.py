"""The Proton event handler: links, credit, transfers and settlement, for the test broker.

Client senders attach to an entity (or to ``$cbs`` / ``$management``); client receivers attach
from one, in peek-lock (unsettled) or receive-and-delete (settled) mode, optionally with a
session filter. Settlement follows the SDK's rules: the client sends its outcome unsettled and
blocks until the broker echoes it settled; a rejected echo carries no error unless the lock
was lost. A timer expires locks, promotes scheduled messages and answers session waits.
"""

from __future__ import annotations

import time
from typing import Any

from proton import Condition, Endpoint, Handler, Link, symbol

from sb_broker._namespace import Address, EntityNotFound, Namespace
from sb_broker._transfers import CREDIT, Consumer, Transfers, guarded

SESSION_FILTER = symbol("com.microsoft:session-filter")
LOCKED_UNTIL_UTC = symbol("com.microsoft:locked-until-utc")
DOTNET_EPOCH_TICKS = 621355968000000000
TICK = 0.02


class BrokerHandler(Transfers, Handler):
    def __init__(self, namespace: Namespace, session_wait: float) -> None:
        self.ns = namespace
        self.session_wait = session_wait
        self.stopping = False
        self.container: Any = None
        self.acceptor: Any = None
        self.waiting: list[Consumer] = []

    # -- lifecycle -----------------------------------------------------------------------------

    @guarded
    def on_reactor_init(self, event: Any) -> None:
        self.container = event.container
        event.container.schedule(TICK, self)

    @guarded
    def on_timer_task(self, event: Any) -> None:
        if self.stopping:
            if self.acceptor is not None:
                self.acceptor.close()
            event.container.stop()
            return
        now = time.time()
        with self.ns.lock:
            changed = self.ns.tick(now)
            for consumer in list(self.waiting):
                self._try_session(consumer, now)
            if changed:
                for queue in self.ns.all_queues():
                    self._pump(queue)
        event.container.schedule(TICK, self)

    @guarded
    def on_connection_remote_open(self, event: Any) -> None:
        if event.connection.state & Endpoint.LOCAL_UNINIT:
            event.connection.open()

    @guarded
    def on_session_remote_open(self, event: Any) -> None:
        if event.session.state & Endpoint.LOCAL_UNINIT:
            event.session.open()

    @guarded
    def on_link_remote_open(self, event: Any) -> None:
        link = event.link
        if not link.state & Endpoint.LOCAL_UNINIT:
            return
        with self.ns.lock:
            if link.is_sender:
                self._open_consumer(link)
            else:
                self._open_producer(link)

    @guarded
    def on_link_remote_close(self, event: Any) -> None:
        self._forget_link(event.link)
        if not event.link.state & Endpoint.LOCAL_CLOSED:
            event.link.close()

    @guarded
    def on_transport_closed(self, event: Any) -> None:
        connection = event.connection
        if connection is None:
            return
        link = connection.link_head(0)
        while link is not None:
            self._forget_link(link)
            link = link.next(0)

    @guarded
    def on_connection_remote_close(self, event: Any) -> None:
        if not event.connection.state & Endpoint.LOCAL_CLOSED:
            event.connection.close()

    @guarded
    def on_session_remote_close(self, event: Any) -> None:
        if not event.session.state & Endpoint.LOCAL_CLOSED:
            event.session.close()

    # -- attach ----------------------------------------------------------------------------------

    def _copy_terminus(self, link: Any) -> None:
        link.source.address = link.remote_source.address
        link.target.address = link.remote_target.address
        link.snd_settle_mode = link.remote_snd_settle_mode
        link.rcv_settle_mode = link.remote_rcv_settle_mode

    def _refuse(self, link: Any, name: str, text: str) -> None:
        link.open()
        link.condition = Condition(name, text)
        link.close()

    def _open_producer(self, link: Any) -> None:
        self._copy_terminus(link)
        address = Address.parse(link.remote_target.address)
        if address.kind not in ("cbs", "management"):
            try:
                self.ns.target(address)
            except EntityNotFound:
                self._refuse(
                    link,
                    "amqp:not-found",
                    f"The messaging entity '{address.entity}' could not be found.",
                )
                return
        link.open()
        link.flow(CREDIT)

    def _open_consumer(self, link: Any) -> None:
        self._copy_terminus(link)
        address = Address.parse(link.remote_source.address)
        if address.kind in ("cbs", "management"):
            link.sb_node = True
            link.open()
            return
        filters = _filters(link)
        wants_session = bool(filters and SESSION_FILTER in filters)
        try:
            queue = self.ns.source(address, session=wants_session)
        except EntityNotFound:
            self._refuse(
                link,
                "amqp:not-found",
                f"The messaging entity '{address.entity}' could not be found.",
            )
            return
        consumer = Consumer(link, queue, link.remote_snd_settle_mode == Link.SND_SETTLED)
        link.sb_consumer = consumer
        if queue.config.requires_session or wants_session:
            wanted = (filters or {}).get(SESSION_FILTER)
            consumer.wanted_session = True
            consumer.session_id = None if wanted is None else str(wanted)
            consumer.waiting_until = time.time() + self.session_wait
            self.waiting.append(consumer)
            self._try_session(consumer, time.time())
            return
        queue.consumers.append(consumer)
        link.open()

    def _try_session(self, consumer: Consumer, now: float) -> None:
        queue = consumer.queue
        got = queue.acquire_session(consumer, consumer.session_id, now)
        if got is None:
            if now >= consumer.waiting_until or consumer.session_id is not None:
                self.waiting.remove(consumer)
                condition = (
                    "com.microsoft:timeout"
                    if consumer.session_id is None
                    else "com.microsoft:session-cannot-be-locked"
                )
                consumer.link.source.address = ""  # the SDK reads no session from this attach
                self._refuse(consumer.link, condition, "no session is available")
            return
        self.waiting.remove(consumer)
        consumer.session_id = got
        until = queue.session_owner[got][1]
        link = consumer.link
        link.source.filter.put_dict({SESSION_FILTER: got})
        link.properties = {LOCKED_UNTIL_UTC: int(until * 10_000_000) + DOTNET_EPOCH_TICKS}
        queue.consumers.append(consumer)
        link.open()
        self._pump(queue)

    def _forget_link(self, link: Any) -> None:
        consumer = getattr(link, "sb_consumer", None)
        if consumer is None:
            return
        link.sb_consumer = None
        with self.ns.lock:
            if consumer in self.waiting:
                self.waiting.remove(consumer)
            consumer.queue.drop_consumer(consumer, time.time())


def _filters(link: Any) -> dict[Any, Any] | None:
    data = link.remote_source.filter
    if data is None:
        return None
    data.rewind()
    if data.next() is None:
        return None
    found = data.get_object()
    return found if isinstance(found, dict) else None


__all__ = ["BrokerHandler"]
