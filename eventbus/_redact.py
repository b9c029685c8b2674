"""Hiding secrets in URLs and in any text derived from them.

:func:`redact_url` hides a URL's password and the values of secret-named parameters;
:class:`Scrubber` blanks known secrets out of any text (an SDK's error message, a log line).
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import unquote, urlsplit, urlunsplit

__all__ = ["Scrubber", "is_secret_name", "redact_url"]

_SECRET_KEYS = ("pass", "token", "key", "secret", "cred", "sig", "conn", "auth")


def is_secret_name(name: str) -> bool:
    """True for a parameter name that holds a secret (``password``, ``token``, ``key``...)."""
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_KEYS)


def redact_url(url: str) -> str:
    """Return ``url`` with any password, token or key hidden, safe for logs, reprs and errors."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable url>"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:***@{host}" if ":" in userinfo else f"***@{host}"
    query = parts.query
    if query:
        redacted = []
        for pair in query.split("&"):
            key, sep, value = pair.partition("=")
            value = unquote(value).lower()
            secret = is_secret_name(key) or any(
                w in value for w in ("sharedaccesskey", "sharedaccesssignature", "password=")
            )
            redacted.append(f"{key}{sep}***" if secret and sep else pair)
        query = "&".join(redacted)
    if "://" in url and not netloc:  # keep "scheme://?..." (urlunsplit would drop the slashes)
        return f"{parts.scheme}://{parts.path}" + (f"?{query}" if query else "")
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


class Scrubber:
    """Replaces known secrets with ``***`` in any text (longest first)."""

    __slots__ = ("_secrets",)

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = tuple(sorted({s for s in secrets if s}, key=len, reverse=True))

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def __repr__(self) -> str:
        return f"<Scrubber of {len(self._secrets)} secret(s)>"
