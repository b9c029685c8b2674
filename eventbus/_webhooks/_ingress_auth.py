"""How the HTTP ingress authenticates a request: Standard Webhooks signatures or a shared token.

Both check the request before its body is read as events; both compare in constant time; no
secret ever appears in a ``repr``, a log line or an error text.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Final, Protocol
from urllib.parse import parse_qsl

from eventbus._errors import ConfigurationError, IngressError, WebhookSignatureError
from eventbus._webhooks._signature import DEFAULT_TOLERANCE, SecretsArg, parse_secrets, verify

__all__ = ["IngressAuth", "SharedSecret", "StandardWebhooks"]

_UNAUTHORIZED: Final = 401


class IngressAuth(Protocol):
    """Checks one request; raises :class:`IngressError` (401) when it is not authentic."""

    def check(self, headers: Mapping[str, bytes], query: str, body: bytes) -> None: ...


class StandardWebhooks:
    """Standard Webhooks verification: ``webhook-id``, ``webhook-timestamp`` within
    ``tolerance`` seconds of now, and a ``v1`` signature made with one of ``secrets``
    (several during a key rotation; ``whsec_...`` text or :class:`WebhookSecret`)."""

    __slots__ = ("_secrets", "tolerance")

    def __init__(self, secrets: SecretsArg, *, tolerance: float = DEFAULT_TOLERANCE) -> None:
        self._secrets = parse_secrets(secrets)
        if not tolerance > 0:
            raise ConfigurationError(f"tolerance must be > 0 seconds, got {tolerance!r}")
        self.tolerance = float(tolerance)

    def __repr__(self) -> str:
        return (
            f"StandardWebhooks(secrets=<{len(self._secrets)} hidden>, tolerance={self.tolerance:g})"
        )

    def check(self, headers: Mapping[str, bytes], query: str, body: bytes) -> None:
        text = {
            name: headers[name].decode("latin-1")
            for name in ("webhook-id", "webhook-timestamp", "webhook-signature")
            if name in headers
        }
        try:
            verify(text, body, self._secrets, tolerance=self.tolerance)
        except WebhookSignatureError as exc:
            raise IngressError(
                str(exc), status=_UNAUTHORIZED, code=f"signature-{exc.problem}", where=exc.header
            ) from None


class SharedSecret:
    """A shared token, the CloudEvents webhook spec's way: ``Authorization: Bearer <token>`` or
    the ``access_token`` query parameter (for senders that cannot set headers, such as a
    Pub/Sub push subscription's endpoint URL). ``header``: read the token from this header
    instead of ``Authorization`` (the whole value is the token); ``query``: the parameter name,
    or None to refuse tokens in the URL."""

    __slots__ = ("_token", "header", "query")

    def __init__(
        self, token: str, *, header: str = "authorization", query: str | None = "access_token"
    ) -> None:
        if not isinstance(token, str) or len(token) < 16:
            raise ConfigurationError(
                "a shared secret must be a string of at least 16 characters "
                "(the value given is not shown)"
            )
        if not token.isascii() or not token.isprintable() or " " in token:
            raise ConfigurationError(
                "a shared secret must be printable ASCII without spaces "
                "(the value given is not shown)"
            )
        self._token = token.encode("ascii")
        self.header = header.lower()
        self.query = query

    def __repr__(self) -> str:
        return f"SharedSecret(<hidden>, header={self.header!r}, query={self.query!r})"

    def _given(self, headers: Mapping[str, bytes], query: str) -> tuple[bytes, str] | None:
        """The token given and where it was (a header or the query parameter)."""
        value = headers.get(self.header)
        if value is not None:
            if self.header != "authorization":
                return value.strip(), self.header
            scheme, _, token = value.strip().partition(b" ")
            return (token.strip(), self.header) if scheme.lower() == b"bearer" else None
        if self.query and query:
            for name, text in parse_qsl(query, keep_blank_values=True):
                if name == self.query:
                    return text.encode("utf-8", "replace"), f"?{self.query}"
        return None

    def check(self, headers: Mapping[str, bytes], query: str, body: bytes) -> None:
        given = self._given(headers, query)
        if given is None:
            where = self.header if not self.query else f"{self.header} or ?{self.query}"
            how = (
                "send 'Authorization: Bearer <token>'"
                if self.header == "authorization"
                else f"send it in the {self.header} header"
            )
            raise IngressError(
                f"no token: {how}", status=_UNAUTHORIZED, code="token-missing", where=where
            )
        token, where = given
        if not hmac.compare_digest(token, self._token):
            raise IngressError(
                "the token does not match", status=_UNAUTHORIZED, code="token-mismatch", where=where
            )
