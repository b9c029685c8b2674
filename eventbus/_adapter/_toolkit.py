"""Helpers every adapter needs, written once (exported by :mod:`eventbus.adapter`).

- :func:`check_channel`, :func:`check_pattern`, :class:`ChannelNames`: a channel or a pattern
  against the adapter's :class:`Limits`, as a :class:`ChannelNameError` naming the adapter;
- :func:`split_url`, :func:`parse_params` and the :class:`Param` readers: an adapter URL and its
  ``?param=value`` query, with errors that name the parameter and never echo a secret;
  :func:`parse_hosts_url` for ``scheme://[user@]host[:port][,host:port...]`` URLs whose
  parameters fill sections of a configuration (NATS, Kafka);
- :class:`Scrubber` (from ``_redact``): blanks known secrets out of any text;
- :func:`broker_dedupe_id` (from ``_wire._dedupe``): the id broker-side duplicate detection
  compares, from the event's ``source`` and ``id`` (the bindings set ``Message.dedupe_id`` with it).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple
from urllib.parse import SplitResult, parse_qsl, urlsplit

from eventbus._adapter._contract import Limits
from eventbus._errors import ChannelNameError, ConfigurationError
from eventbus._redact import Scrubber, is_secret_name, redact_url
from eventbus._wire._dedupe import broker_dedupe_id

__all__ = [
    "ChannelNames",
    "HostsUrl",
    "Param",
    "Reader",
    "Scrubber",
    "broker_dedupe_id",
    "check_channel",
    "check_pattern",
    "parse_hosts_url",
    "parse_params",
    "split_url",
]

Reader = Callable[[str], Any]
"""Turns a URL parameter's text into its value, raising ValueError when it cannot."""
_CACHE_LIMIT = 10_000
_FLAGS = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}


def check_channel(limits: Limits, channel: str, *, adapter: str) -> None:
    """Raise ChannelNameError unless ``channel`` is a plain channel name (no wildcards)."""
    problem = limits.channel_problem(channel)
    if problem is not None:
        raise ChannelNameError(channel, problem, adapter=adapter)


def check_pattern(limits: Limits, pattern: str, *, adapter: str) -> None:
    """Raise ChannelNameError unless ``pattern`` is a channel name or a wildcard pattern."""
    problem = limits.pattern_problem(pattern)
    if problem is not None:
        raise ChannelNameError(pattern, problem, adapter=adapter)


class ChannelNames:
    """Checks an adapter's channel names, remembering the valid ones (publish checks every
    call; a regular expression per message would cost more than the rest of a memory publish).
    """

    __slots__ = ("_adapter", "_limits", "_valid")

    def __init__(self, limits: Limits, *, adapter: str) -> None:
        self._limits = limits
        self._adapter = adapter
        self._valid: set[str] = set()

    @property
    def limits(self) -> Limits:
        return self._limits

    def channel(self, channel: str) -> None:
        """Raise ChannelNameError unless ``channel`` is a plain channel name."""
        if channel not in self._valid:
            check_channel(self._limits, channel, adapter=self._adapter)
            if len(self._valid) >= _CACHE_LIMIT:
                self._valid.clear()
            self._valid.add(channel)

    def pattern(self, pattern: str) -> None:
        """Raise ChannelNameError unless ``pattern`` is a channel name or a wildcard pattern."""
        check_pattern(self._limits, pattern, adapter=self._adapter)


# -- URLs ----------------------------------------------------------------------------------------


def split_url(url: str, scheme: str, *, what: str) -> tuple[SplitResult, str]:
    """``url`` split into its parts, and the redacted text to show in errors.

    Raises ConfigurationError unless it is ``scheme://...`` (a mistyped ``scheme:/...`` or a
    missing scheme is named as such). ``what`` names the URL in errors ("NATS URL").
    """
    shown = redact_url(url)
    if not isinstance(url, str):
        raise ConfigurationError(f"a {what} is a string, got {shown}")
    try:
        parts = urlsplit(url)
    except ValueError:  # its message quotes the netloc, which may hold a password
        raise ConfigurationError(
            f"not a valid {what}: {shown} (a bracket, a port or a character a URL cannot hold)"
        ) from None
    if parts.scheme.lower() != scheme or not url[len(scheme) + 1 :].startswith("//"):
        raise ConfigurationError(
            f"not a {scheme}:// URL: {shown} (a {what} starts with '{scheme}://')"
        )
    return parts, shown


class Param:
    """Readers for :func:`parse_params`: each turns a parameter's text into its value, or
    raises ValueError saying what it expected."""

    @staticmethod
    def text(raw: str) -> str:
        return raw

    @staticmethod
    def nonempty(raw: str) -> str:
        if not raw:
            raise ValueError("expected a value")
        return raw

    @staticmethod
    def flag(raw: str) -> bool:
        value = _FLAGS.get(raw.lower())
        if value is None:
            raise ValueError("expected true or false")
        return value

    @staticmethod
    def seconds(raw: str) -> float:
        try:
            return _SECONDS(raw)
        except ValueError:
            raise ValueError("expected a number of seconds >= 0") from None

    @staticmethod
    def integer(minimum: int | None = None) -> Callable[[str], int]:
        wanted = "an integer" if minimum is None else f"an integer >= {minimum}"

        def read(raw: str) -> int:
            try:
                value = int(raw)
            except ValueError:
                raise ValueError(f"expected {wanted}") from None
            if minimum is not None and value < minimum:
                raise ValueError(f"expected {wanted}")
            return value

        return read

    @staticmethod
    def number(low: float | None = None, high: float | None = None) -> Callable[[str], float]:
        if low is not None and high is not None:
            wanted = f"a number between {low:g} and {high:g}"
        elif low is not None:
            wanted = f"a number >= {low:g}"
        else:
            wanted = "a number"

        def read(raw: str) -> float:
            try:
                value = float(raw)
            except ValueError:
                value = math.nan
            if (
                not math.isfinite(value)
                or (low is not None and value < low)
                or (high is not None and value > high)
            ):
                raise ValueError(f"expected {wanted}")
            return value

        return read


_SECONDS = Param.number(0.0)


def parse_params(
    query: str, readers: Mapping[str, Reader], *, what: str, shown: str
) -> dict[str, Any]:
    """Read ``query`` (``a=1&b=2``) with one reader per known parameter.

    Raises ConfigurationError for an unknown parameter (listing the known ones), one given
    twice, a value its reader refuses (showing the value unless the parameter's name looks
    secret) and a query that holds no parameter at all. ``shown`` is the redacted URL.
    """
    values: dict[str, Any] = {}
    for key, raw in parse_qsl(query, keep_blank_values=True):
        reader = readers.get(key)
        if reader is None:
            raise ConfigurationError(
                f"unknown {what} parameter {key!r} in {shown} (known: {', '.join(readers)})"
            )
        if key in values:
            raise ConfigurationError(f"{what} parameter {key!r} is given twice in {shown}")
        try:
            values[key] = reader(raw)
        except ValueError as exc:
            got = "" if is_secret_name(key) else f", got {raw!r}"
            raise ConfigurationError(f"{what} parameter {key!r} in {shown}: {exc}{got}") from None
    if query and not values:
        raise ConfigurationError(f"cannot read the query of the {what} {shown}")
    return values


class HostsUrl(NamedTuple):
    """What :func:`parse_hosts_url` read: ``userinfo`` (still percent-encoded, "" if none),
    ``servers`` (``host:port`` each), the parameters' values per section (``sections``),
    whether TLS is on (``tls``) and the redacted URL to show in errors (``shown``)."""

    userinfo: str
    servers: tuple[str, ...]
    sections: dict[str, dict[str, Any]]
    tls: bool
    shown: str


def parse_hosts_url(
    url: str,
    scheme: str,
    *,
    what: str,
    params: Mapping[str, tuple[str, str, Reader]],
    sections: tuple[str, ...],
    default_port: int,
    default_server: str | None = None,
    entry: str = "server",
) -> HostsUrl:
    """Read ``scheme://[userinfo@]host[:port][,host[:port]...][?param=value&...]``.

    ``params`` maps each parameter to ``(section, field, reader)``; the values land in
    ``sections[section][field]``. The ``tls`` section is special: a parameter with an empty
    field switches TLS on or off, any other ``tls`` parameter switches it on. Hosts may be
    ``[IPv6]:port``; an empty host list means ``default_server`` (an error if None). Errors
    show the URL redacted, except for a bad host: named by its position (``entry`` #n), its
    text and the URL are not shown (``user:password`` without its ``@`` reads as a host).
    """
    shown = redact_url(url)
    prefix, sep, rest = url.partition("://")
    if not sep or prefix.lower() != scheme:
        raise ConfigurationError(f"not a {scheme}:// URL: {shown}")
    rest, _, fragment = rest.partition("#")
    rest, _, query = rest.partition("?")
    netloc, _, path = rest.partition("/")
    if path or fragment:
        raise ConfigurationError(
            f"a {what} is {scheme}://[user:password@]host[:port][,host:port][?param=value], "
            f"got {shown}: unexpected path or fragment"
        )
    userinfo, _, hostlist = netloc.rpartition("@")
    values: dict[str, dict[str, Any]] = {name: {} for name in sections}
    use_tls = False
    readers = {key: reader for key, (_, _, reader) in params.items()}
    for key, value in parse_params(query, readers, what=what, shown=shown).items():
        section, name, _ = params[key]
        if section == "tls":
            use_tls = use_tls or (value if not name else True)
            if not name:
                continue
        values[section][name] = value
    if hostlist:
        servers = _hosts(hostlist, default_port, what=what, entry=entry)
    elif default_server is not None:
        servers = (default_server,)
    else:
        raise ConfigurationError(f"the {what} names no {entry}: {shown}")
    return HostsUrl(userinfo, servers, values, use_tls, shown)


_HOST_FORM = "expected host[:port] or [IPv6]:port"


def _hosts(hostlist: str, default_port: int, *, what: str, entry: str) -> tuple[str, ...]:
    # A bad host is named by its position, and the URL is not shown: without its '@', a
    # user:password part reads as host:port, and redact_url cannot know it is a password.
    servers = []
    for number, text in enumerate(hostlist.split(","), 1):
        host, port = text, str(default_port)
        if text.startswith("["):  # [IPv6]:port
            end = text.find("]")
            if end < 0:
                raise ConfigurationError(f"unclosed '[' in {entry} #{number} of the {what}")
            host, rest = text[: end + 1], text[end + 1 :]
            if rest:
                if not rest.startswith(":"):
                    raise ConfigurationError(f"bad {entry} #{number} in the {what}: {_HOST_FORM}")
                port = rest[1:]
        elif ":" in text:
            host, port = text.rsplit(":", 1)
            if ":" in host:  # IPv6 goes in brackets; else it is user:password missing its '@'
                raise ConfigurationError(f"bad {entry} #{number} in the {what}: {_HOST_FORM}")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigurationError(f"bad {entry} #{number} in the {what}: {_HOST_FORM}")
        servers.append(f"{host}:{int(port)}")
    return tuple(servers)
