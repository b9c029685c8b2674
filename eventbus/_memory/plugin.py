"""The pluggy plugin that registers the built-in ``memory://`` adapter.

Declared in pyproject.toml as the entry point ``eventbus.adapters: memory``.
"""

from __future__ import annotations

import pluggy

from eventbus._adapter._contract import AdapterInfo
from eventbus._memory._adapter import CAPABILITIES, MemoryAdapter

__all__ = ["eventbus_adapters"]

hookimpl = pluggy.HookimplMarker("eventbus")


@hookimpl
def eventbus_adapters() -> list[AdapterInfo]:
    """The in-memory adapter, served for ``memory://`` URLs."""
    return [
        AdapterInfo(
            scheme="memory",
            distribution="eventbus",
            description=(
                "in-process broker with real semantics (groups, acks, redelivery, ordering keys,"
                " dead letters) and seeded fault injection: memory://[NAME][?seed=..&duplicate=..]"
            ),
            factory=MemoryAdapter.from_url,
            capabilities=CAPABILITIES,
        )
    ]
