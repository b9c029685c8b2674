"""The wire switches of a bus, per bus and per channel: content mode and AMQP prefix.

Each is a Python parameter of :class:`~eventbus.EventBus` and a URL option the bus takes off the
URL before the adapter sees it:

- ``content_mode`` (``binary`` / ``structured``): unset, the adapter's default
  (``Capabilities.content_mode``: structured on NATS, binary elsewhere);
- ``amqp_prefix`` (``cloudEvents:`` / ``cloudEvents_``; the ``"amqp"`` binding only): unset,
  ``cloudEvents:``;
- per channel: ``content_mode.<channel>=...`` / ``amqp_prefix.<channel>=...`` in the URL,
  ``channel_options={"<channel>": {"content_mode": ..., "amqp_prefix": ...}}`` in Python.

A Python parameter wins over the URL option, a channel's choice over the bus's. Decoders need
no switch: they detect the mode and read both prefixes. docs/architecture.md records why the
defaults are what they are (evidence: docs/interop.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final
from urllib.parse import parse_qsl

from eventbus._errors import ConfigurationError
from eventbus._wire._amqp import DEFAULT_PREFIX, check_amqp_prefix
from eventbus._wire._bindings import ContentMode, content_mode, encoder
from eventbus._wire._event import Event
from eventbus._wire._message import Message

__all__ = ["WireOptions", "split_wire_options"]

_OPTIONS: Final = ("content_mode", "amqp_prefix")
Choice = dict[str, str]


def split_wire_options(url: str) -> tuple[str, Choice, dict[str, Choice]]:
    """``url`` without the wire options; the bus-wide ones; the per-channel ones."""
    base, mark, rest = url.partition("?")
    query, hash_, fragment = rest.partition("#")
    if not mark or not query:
        return url, {}, {}
    kept: list[str] = []
    bus: Choice = {}
    channels: dict[str, Choice] = {}
    for raw in query.split("&"):
        pairs = parse_qsl(raw, keep_blank_values=True)
        if len(pairs) != 1:
            kept.append(raw)
            continue
        ((name, value),) = pairs
        option, dot, channel = name.partition(".")
        if option not in _OPTIONS:
            kept.append(raw)
            continue
        if dot and not channel:
            raise ConfigurationError(f"URL option {name!r} names no channel ({option}.CHANNEL)")
        if dot:
            channels.setdefault(channel, {})[option] = value
        else:
            bus[option] = value
    rebuilt = base + ("?" + "&".join(kept) if kept else "") + hash_ + fragment
    return rebuilt, bus, channels


def _check(choice: Mapping[str, Any], binding: str, where: str) -> Choice:
    out: Choice = {}
    for name, value in choice.items():
        if name == "content_mode":
            try:
                out[name] = content_mode(value).value
            except ConfigurationError as exc:
                raise ConfigurationError(f"{where}{exc}") from None
        elif name == "amqp_prefix":
            if binding != "amqp":
                raise ConfigurationError(
                    f"{where}amqp_prefix applies to the AMQP binding (Service Bus) only; "
                    f"this adapter's binding is {binding!r}"
                )
            try:
                out[name] = check_amqp_prefix(value)
            except ConfigurationError as exc:
                raise ConfigurationError(f"{where}{exc}") from None
        else:
            raise ConfigurationError(
                f"{where}unknown wire option {name!r}; expected one of: {', '.join(_OPTIONS)}"
            )
    return out


class WireOptions:
    """The encoder of each channel, from the bus's and the channels' choices (validated now)."""

    def __init__(
        self,
        binding: str,
        adapter_mode: str,
        bus: Mapping[str, Any],
        channels: Mapping[str, Mapping[str, Any]],
    ) -> None:
        self.binding = binding
        base = {"content_mode": adapter_mode, "amqp_prefix": DEFAULT_PREFIX}
        base.update(_check(bus, binding, ""))
        self.default: Choice = base
        self.channels = {
            channel: {**base, **_check(choice, binding, f"channel {channel!r}: ")}
            for channel, choice in channels.items()
        }
        self._cache: dict[str, Callable[[Event[Any]], Message]] = {}
        self.default_encoder = self._encoder(base)

    @property
    def content_mode(self) -> ContentMode:
        return ContentMode(self.default["content_mode"])

    def _encoder(self, choice: Choice) -> Callable[[Event[Any]], Message]:
        return encoder(self.binding, choice["content_mode"], amqp_prefix=choice["amqp_prefix"])

    def encoder_for(self, channel: str) -> Callable[[Event[Any]], Message]:
        found = self._cache.get(channel)
        if found is None:
            choice = self.channels.get(channel)
            found = self.default_encoder if choice is None else self._encoder(choice)
            self._cache[channel] = found
        return found
