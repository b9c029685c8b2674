"""Hiding secrets in URLs, connection strings and any text derived from them.

:func:`redact_url` takes whatever a user passed as a URL or connection string, well-formed or
not, and hides every place a secret can sit:

- the user information of a URL, up to the *last* ``@`` (a password may hold unencoded ``/``,
  ``?``, ``#`` or ``@``), whatever the separator after the scheme (``nats://``, a mistyped
  ``nats:/`` or ``nats:``, none at all); after ``scheme:/`` or ``scheme://`` the user name
  before the first ``:`` stays, after a bare ``scheme:`` nothing does (the "scheme" may be a
  user name: ``bob:password@host``);
- a ``host:port`` whose "port" is not a number (``nats://user:password`` without a host):
  everything after the first ``:``;
- the value of every parameter whose name looks secret (``password``, ``token``, ``key``,
  ``SharedAccessKey``, ``sig``...), in a URL query (``&`` or ``;`` separated), an Azure
  connection string (``;``) or a libpq string (``host=h password='x y'``); a value runs to the
  next separator that starts another ``name=``, so unencoded ``&``, ``;``, ``#`` or ``?``
  inside a secret do not end it; and a parameter whose value itself holds a secret parameter.

:func:`secret_parts` returns what :func:`redact_url` hides (raw and percent-decoded), for a
:class:`Scrubber` that cleans texts a driver derived from the same string; :func:`redact_text`
does both, and also hides any quoted fragment of the string that the redacted form would not
show (a parser quoting part of a password). When in doubt, more is hidden, never less.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote

__all__ = ["Scrubber", "is_secret_name", "redact_text", "redact_url", "secret_parts"]

_SECRET_WORDS = ("pass", "pwd", "token", "key", "secret", "cred", "sig", "conn", "auth")
_NOT_SECRET_SUFFIXES = ("name", "file", "path", "env", "timeout")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_NAME = r"[A-Za-z_][A-Za-z0-9_.\-]*"
# A parameter starts at the beginning or after a separator; ``name=`` follows.
_URL_PARAM = re.compile(rf"(?:^|(?<=[?&;\s]))({_NAME})=")
_CONNINFO_PARAM = re.compile(rf"(?:^|(?<=[;\s]))({_NAME})\s*=\s*")
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'", re.S)
_BLANK = re.compile(r"\s")
_NEXT_PAIR = re.compile(rf";(?={_NAME}\s*=)")
_NESTED_SECRET = re.compile(rf"({_NAME})\s*=")
_HIDDEN = "***"


def is_secret_name(name: str) -> bool:
    """True for a parameter name that holds a secret (``password``, ``token``, ``key``...),
    not one that names where a secret is or how long to wait (``SharedAccessKeyName``,
    ``passfile``, ``connection_string_env``, ``connect_timeout``)."""
    lowered = name.lower()
    if lowered.endswith(_NOT_SECRET_SUFFIXES):
        return False
    return any(word in lowered for word in _SECRET_WORDS)


def _holds_secret(value: str) -> bool:
    """A value that is itself a connection string or query with a secret in it."""
    decoded = unquote(value)
    return any(is_secret_name(m.group(1)) for m in _NESTED_SECRET.finditer(decoded))


def _value_end(text: str, begin: int) -> int:
    """Where a conninfo value starting at ``begin`` ends: a libpq quoted value ('...' with
    escapes) at its closing quote; otherwise at a blank, or at a ``;`` starting ``name=``."""
    if text[begin : begin + 1] == "'":
        quoted = _QUOTED.match(text, begin)
        return quoted.end() if quoted else len(text)
    blank = _BLANK.search(text, begin)
    end = blank.start() if blank is not None else len(text)
    semicolon = _NEXT_PAIR.search(text, begin, end)
    return semicolon.start() if semicolon is not None else end


def _conninfo_spans(text: str) -> list[tuple[int, int]]:
    """Secret values of ``name=value`` pairs separated by blanks or ``;`` (libpq, Azure)."""
    spans = []
    position = 0
    while position < len(text):
        match = _CONNINFO_PARAM.search(text, position)
        if match is None:
            break
        begin = match.end()
        end = _value_end(text, begin)
        value = text[begin:end]
        if value and (is_secret_name(match.group(1)) or _holds_secret(value)):
            spans.append((begin, end))
        position = max(end, begin + 1)
    return spans


def _query_spans(text: str, start: int) -> list[tuple[int, int]]:
    """Secret parameter values in ``text[start:]``, a URL's remainder (``&``/``;`` separated):
    a value runs to the separator that starts the next ``name=``."""
    found = list(_URL_PARAM.finditer(text, start))
    spans = []
    for index, match in enumerate(found):
        begin = match.end()
        end = found[index + 1].start() if index + 1 < len(found) else len(text)
        while end > begin and text[end - 1] in "&;\t\n\r " and end < len(text):
            end -= 1  # the separator before the next parameter stays
        value = text[begin:end]
        if value and (is_secret_name(match.group(1)) or _holds_secret(value)):
            spans.append((begin, end))
    return spans


def _authority_spans(text: str, start: int, slashes: bool) -> list[tuple[int, int]]:
    """Secret spans of a URL's authority: user information, or non-numeric "ports".

    Without slashes after the "scheme", it may be a user name (``user:password@host``), so
    everything up to the ``@`` is hidden; with them, the user name before a ``:`` stays."""
    at = text.rfind("@", start)
    if at >= 0:
        userinfo = text[start:at]
        colon = userinfo.find(":")
        begin = start + colon + 1 if colon >= 0 and slashes else start
        return [(begin, at)] if at > begin else []
    end = len(text)
    for stop in "/?#":
        found = text.find(stop, start)
        if 0 <= found < end:
            end = found
    spans = []
    position = start
    for entry in text[start:end].split(","):
        if not entry.startswith("[") and ":" in entry:  # "[IPv6]:port" has no secret
            port_at = position + entry.index(":") + 1
            port = text[port_at : position + len(entry)]
            if not port.isdigit():  # "user:password" with the host forgotten
                spans.append((port_at, position + len(entry)))
        position += len(entry) + 1
    return spans


def _spans(text: str) -> list[tuple[int, int]]:
    # Every reading at once (URL, libpq or Azure pairs): what one of them calls a secret is
    # hidden, so a string that is not quite any of them still shows nothing secret.
    scheme = _SCHEME.match(text)
    start = scheme.end() if scheme is not None else 0
    slashes = text[start : start + 1] == "/"
    while text[start : start + 1] == "/":
        start += 1
    # Parameters are looked for from the start too: a secret value may hold an '@'.
    return (
        _conninfo_spans(text) + _authority_spans(text, start, slashes) + _query_spans(text, start)
    )


def _merged(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for begin, end in sorted(spans):
        if out and begin <= out[-1][1]:
            out[-1] = (out[-1][0], max(end, out[-1][1]))
        else:
            out.append((begin, end))
    return out


def redact_url(url: str) -> str:
    """Return ``url`` (or a connection string) with every password, token or key hidden, safe
    for logs, reprs and errors, whether it is well-formed or not."""
    if not isinstance(url, str):
        return f"<{type(url).__name__}>"
    pieces = []
    position = 0
    for begin, end in _merged(_spans(url)):
        pieces.append(url[position:begin])
        pieces.append(_HIDDEN)
        position = end
    pieces.append(url[position:])
    return "".join(pieces)


def secret_parts(url: str) -> list[str]:
    """The secrets :func:`redact_url` hides in ``url``, as written and percent-decoded."""
    if not isinstance(url, str):
        return []
    parts: list[str] = []
    for begin, end in _merged(_spans(url)):
        raw = url[begin:end]
        parts += [raw, unquote(raw)]
        if raw.startswith("'") and raw.endswith("'") and len(raw) > 1:
            parts.append(re.sub(r"\\(.)", r"\1", raw[1:-1]))
    return parts


class Scrubber:
    """Replaces known secrets with ``***`` in any text (longest first)."""

    __slots__ = ("_secrets",)

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = tuple(sorted({s for s in secrets if s}, key=len, reverse=True))

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, _HIDDEN)
        return text

    def __repr__(self) -> str:
        return f"<Scrubber of {len(self._secrets)} secret(s)>"


_QUOTED_FRAGMENT = re.compile(r"\"([^\"]*)\"|'([^']*)'")


def redact_text(text: str, url: str) -> str:
    """``text`` (a driver's error message about ``url``) with no secret of ``url`` left: the
    URL itself shown redacted, its secrets blanked, and any quoted fragment of it that the
    redacted URL would not show (a parser quoting part of a password) hidden."""
    if not isinstance(url, str) or not url:
        return text
    shown = redact_url(url)
    text = Scrubber(secret_parts(url))(text.replace(url, shown))

    def fragment(match: re.Match[str]) -> str:
        inner = match.group(1) if match.group(1) is not None else match.group(2)
        if inner and inner in url and inner not in shown:
            return match.group(0).replace(inner, _HIDDEN)
        return match.group(0)

    return _QUOTED_FRAGMENT.sub(fragment, text)
