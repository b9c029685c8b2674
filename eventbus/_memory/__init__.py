"""The built-in in-memory adapter (``memory://``): a real broker living in the process.

It moves :class:`~eventbus.Message` objects only; it knows nothing of events or the bus.
"""

from eventbus._memory._adapter import CAPABILITIES, MemoryAdapter
from eventbus._memory._broker import DEFAULT_DEDUPE_WINDOW, MemoryBroker, forget_brokers
from eventbus._memory._delivery import MemoryDelivery
from eventbus._memory._faults import MemoryFaults, MemoryStats
from eventbus._memory._subscription import MemorySubscription
from eventbus._memory._url import DEFAULT_MAX_MESSAGE_BYTES, parse_memory_url

__all__ = [
    "CAPABILITIES",
    "DEFAULT_DEDUPE_WINDOW",
    "DEFAULT_MAX_MESSAGE_BYTES",
    "MemoryAdapter",
    "MemoryBroker",
    "MemoryDelivery",
    "MemoryFaults",
    "MemoryStats",
    "MemorySubscription",
    "forget_brokers",
    "parse_memory_url",
]
