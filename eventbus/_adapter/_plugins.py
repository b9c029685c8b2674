"""Plugin discovery: entry points -> pluggy -> the adapter that serves a URL scheme."""

from __future__ import annotations

import difflib
from functools import lru_cache
from importlib.metadata import entry_points
from types import ModuleType
from urllib.parse import urlsplit

import pluggy

from eventbus._adapter import _hookspecs
from eventbus._adapter._contract import Adapter, AdapterInfo
from eventbus._errors import ConfigurationError, UnknownSchemeError, redact_url

__all__ = ["adapter_infos", "create_adapter", "plugin_manager"]

#: Distributions that provide the schemes we know about, for the "pip install ..." hint.
KNOWN_DISTRIBUTIONS = {
    "memory": "eventbus",
    "nats": "eventbus-nats",
    "pubsub": "eventbus-pubsub",
    "servicebus": "eventbus-servicebus",
    "sqs": "eventbus-aws",
}


def _builtin_plugins() -> list[ModuleType]:
    from eventbus._memory import plugin as memory_plugin

    return [memory_plugin]


@lru_cache(maxsize=1)
def plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager, with every ``eventbus.adapters`` entry point loaded."""
    pm = pluggy.PluginManager(_hookspecs.PROJECT)
    pm.add_hookspecs(_hookspecs)
    pm.load_setuptools_entrypoints(_hookspecs.ENTRY_POINT_GROUP)
    # The built-in memory adapter is registered through its entry point; from a source tree
    # without installed metadata, register it the same way by hand.
    for module in _builtin_plugins():
        if not pm.is_registered(module):
            pm.register(module)
    return pm


@lru_cache(maxsize=32)
def _plugin_for_scheme(scheme: str) -> pluggy.PluginManager | None:
    """A plugin manager holding only the plugin whose entry point is named ``scheme`` (the
    convention of every adapter distribution): ``EventBus("memory://")`` then imports no
    other adapter's SDK. None when no entry point has that name."""
    module: object | None = None
    if scheme == "memory":
        module = _builtin_plugins()[0]
    else:
        for ep in entry_points(group=_hookspecs.ENTRY_POINT_GROUP):
            if ep.name == scheme:
                module = ep.load()
                break
    if module is None:
        return None
    pm = pluggy.PluginManager(_hookspecs.PROJECT)
    pm.add_hookspecs(_hookspecs)
    pm.register(module)
    return pm


def adapter_infos(pm: pluggy.PluginManager | None = None) -> dict[str, AdapterInfo]:
    """Installed adapters by scheme (the first plugin to claim a scheme wins)."""
    pm = pm or plugin_manager()
    found: dict[str, AdapterInfo] = {}
    for infos in reversed(pm.hook.eventbus_adapters()):
        for info in infos:
            found.setdefault(info.scheme, info)
    return found


def create_adapter(url: str, pm: pluggy.PluginManager | None = None) -> Adapter:
    """Build (not connect) the adapter whose scheme matches ``url``."""
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        # from None: urlsplit's message quotes the netloc, which may hold a password
        raise ConfigurationError(f"not a URL: {redact_url(url)}") from None
    rest = url.split(":", 1)[1] if ":" in url else ""
    host_port = scheme not in KNOWN_DISTRIBUTIONS and rest.split("/")[0].isdigit()
    if not scheme or host_port:
        # "localhost:4222" parses as scheme "localhost": a host and port without a scheme
        raise ConfigurationError(
            f"{redact_url(url)!r} has no scheme; use e.g. memory://, nats://host:4222, "
            "pubsub://project-id or servicebus://namespace"
        )
    if pm is None:  # only the plugin the URL names, when its entry point is named after it
        one = _plugin_for_scheme(scheme)
        found = adapter_infos(one).get(scheme) if one is not None else None
        if found is not None:
            return found.factory(url)
    infos = adapter_infos(pm)
    info = infos.get(scheme)
    if info is None:
        hint = KNOWN_DISTRIBUTIONS.get(scheme) or f"an adapter plugin for '{scheme}'"
        close = difflib.get_close_matches(scheme, list(infos), n=1, cutoff=0.6)
        raise UnknownSchemeError(scheme, infos, hint, close[0] if close else None)
    return info.factory(url)
