"""Hook specifications for adapter plugins (pluggy project name ``eventbus``).

A plugin is a module or object with ``@hookimpl``-marked functions, found through the
entry-point group ``eventbus.adapters``::

    # pyproject.toml of an adapter distribution
    [project.entry-points."eventbus.adapters"]
    nats = "eventbus_nats.plugin"
"""

from __future__ import annotations

import pluggy

from eventbus._adapter._contract import AdapterInfo

__all__ = ["hookimpl", "hookspec"]

PROJECT = "eventbus"
ENTRY_POINT_GROUP = "eventbus.adapters"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)
"""Marks a plugin's ``eventbus_adapters`` hook implementation (pluggy's hookimpl marker)."""


@hookspec
def eventbus_adapters() -> list[AdapterInfo]:  # type: ignore[empty-body]
    """Describe the adapters this plugin provides: URL scheme, distribution, factory, capabilities."""
