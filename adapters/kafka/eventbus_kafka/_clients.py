"""Where this adapter's librdkafka clients end: on a thread of ours, never on one of librdkafka's.

A confluent-kafka client is destroyed when its Python object is deallocated. Left to the cyclic
garbage collector, that happens on whichever thread allocates when a collection starts, and
confluent-kafka runs Python code on librdkafka's own threads: the admin futures complete on the
client's background thread. A client destroyed there aborts the interpreter ("calling
rd_kafka_destroy() from librdkafka owned thread is prohibited"). So every client is tied to the
object that owns it: when the owner closes it, or is collected on any thread, the client is
handed to one reaper thread of this module, which closes a consumer and drops the client there.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import sys
import threading
import weakref
from collections.abc import Callable

from confluent_kafka import Consumer, KafkaException

__all__ = ["bury", "tie"]

log = logging.getLogger("eventbus.kafka")
_graves: queue.SimpleQueue[object] = queue.SimpleQueue()
_lock = threading.Lock()
_reaper: list[threading.Thread] = []
_RECHECK = 0.02  # seconds between looks at clients someone still holds


def tie(owner: object, client: object) -> Callable[[], object]:
    """Hand ``client`` to the reaper once ``owner`` is gone; call the result to do it at once
    (the owner must then drop its own reference). Nothing is handed over at interpreter exit."""
    grave = weakref.finalize(owner, bury, client)
    grave.atexit = False
    return grave


def bury(client: object) -> None:
    """Close (a consumer) and destroy ``client`` on the reaper thread, once nothing else holds
    it (the caller drops its references)."""
    _graves.put(client)
    if not _reaper:
        with _lock:
            if not _reaper:
                thread = threading.Thread(target=_reap, name="eventbus-kafka-reaper", daemon=True)
                thread.start()
                _reaper.append(thread)


def _reap() -> None:
    waiting: list[object] = []
    while True:
        with contextlib.suppress(queue.Empty):
            waiting.append(_graves.get(timeout=_RECHECK if waiting else None))
        index = 0
        while index < len(waiting):
            # Whoever handed a client over may still hold it for a moment (a finalizer's frame
            # on a librdkafka thread): wait until the list's is the only reference left (2: the
            # list's and getrefcount's argument), so that the last one is dropped here.
            if sys.getrefcount(waiting[index]) > 2:
                index += 1
                continue
            client = waiting.pop(index)
            if isinstance(client, Consumer):
                try:
                    client.close()  # leaves its group (an error once closed by its owner)
                except (KafkaException, RuntimeError) as exc:
                    log.debug("kafka: closing a consumer on the reaper: %r", exc)
            del client  # rd_kafka_destroy runs here
