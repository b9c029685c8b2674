"""Which nats-py client the adapter uses: the faster :class:`AdapterClient` when the private
nats-py hooks it overrides still have the shape it was written against, else nats-py's own
``Client`` through its public API only (same behaviour on well-formed messages, slower).

:class:`AdapterClient` overrides ``Client._send_publish`` (calling ``_send_command``,
``_flush_pending``, ``stats``, ``_flush_queue`` and ``nats.protocol.command.hpub_cmd``) and
``Client._parse_header_lines`` (called by ``Client._process_headers``); its ``publish_all``
appends to ``_pending`` (``_pending_data_size``, ``_max_pending_size``, ``_max_payload``,
``_status``) as ``_send_command`` would. None of these is public:
a nats-py release may rename, reshape or stop calling any of them. :func:`hooks_problem` checks
each one (that it exists, its parameters, that nats-py still calls it) before connecting, and
:func:`instance_problem` checks the connected client's state; the first change found sends the
connection down the public path, logged once at INFO (and again whenever the choice changes).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

from nats.aio.client import Client

from eventbus_nats import _client

__all__ = ["hooks_problem", "instance_problem", "new_client", "report_path"]

log = logging.getLogger("eventbus.nats")

_HOOKS: dict[str, tuple[str, ...]] = {  # name -> its parameters, as AdapterClient calls them
    "_send_publish": ("self", "subject", "reply", "payload", "payload_size", "headers"),
    "_send_command": ("self", "cmd", "priority"),
    "_flush_pending": ("self", "force_flush"),
    "_parse_header_lines": ("raw",),  # a staticmethod in nats-py
}
_CALLERS = (("publish", "_send_publish"), ("_process_headers", "_parse_header_lines"))
_COROUTINES = ("_send_publish", "_send_command", "_flush_pending")
_reported: list[str | None] = []  # the last path logged (empty: none yet)


def _parameters(function: Callable[..., Any]) -> tuple[str, ...] | None:
    try:
        return tuple(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        return None


def hooks_problem(client_class: type[Client] = Client) -> str | None:
    """None if ``client_class`` has every hook AdapterClient relies on, in the expected shape
    and still called where AdapterClient expects; else what differs (for the log)."""
    if not _client.HPUB_AVAILABLE:
        return "nats.protocol.command.hpub_cmd is gone"
    for name, expected in _HOOKS.items():
        hook = getattr(client_class, name, None)
        if hook is None:
            return f"Client.{name} is gone"
        if _parameters(hook) != expected:
            return f"Client.{name} takes {_parameters(hook)}, not {expected}"
        if name in _COROUTINES and not inspect.iscoroutinefunction(hook):
            return f"Client.{name} is no longer a coroutine function"
    for caller, hook_name in _CALLERS:
        code = getattr(getattr(client_class, caller, None), "__code__", None)
        if code is None or hook_name not in code.co_names:
            return f"Client.{caller} no longer calls {hook_name}"
    return None


def instance_problem(nc: Client) -> str | None:
    """None if the connected client has the state AdapterClient's publish path updates."""
    stats = getattr(nc, "stats", None)
    if not isinstance(stats, dict) or not {"out_msgs", "out_bytes"} <= stats.keys():
        return "Client.stats has no out_msgs/out_bytes counters"
    if not hasattr(nc, "_flush_queue"):
        return "Client._flush_queue is gone"
    if not isinstance(getattr(nc, "_pending", None), list):
        return "Client._pending is no longer a list"
    for name in ("_pending_data_size", "_max_pending_size", "_max_payload", "_status"):
        if type(getattr(nc, name, None)) is not int:
            return f"Client.{name} is no longer an int"
    if type(getattr(Client, "CONNECTED", None)) is not int:
        return "Client.CONNECTED is gone"
    return None


def new_client() -> tuple[Client, str | None]:
    """A new, unconnected client: AdapterClient if the hooks check out, else nats-py's own;
    and the reason for the latter (None for AdapterClient)."""
    problem = hooks_problem()
    return (_client.AdapterClient() if problem is None else Client()), problem


def report_path(nc: Client, problem: str | None) -> None:
    """After connecting: check the client's state, fall back if it differs, log the path once."""
    if problem is None and isinstance(nc, _client.AdapterClient):
        problem = instance_problem(nc)
        if problem is not None:
            nc.use_public_paths()
    if _reported and _reported[-1] == problem:
        return
    _reported[:] = [problem]
    if problem is None:
        log.info("nats: using nats-py's private header hooks (the fast path)")
    else:
        log.info(
            "nats: using nats-py's public API only (slower header handling): %s; "
            "see docs/adapters/nats.md",
            problem,
        )
