"""Sinks: where a webhook delivery goes. One interface, two sinks (HTTP, SMTP in ``_smtp``).

A sink's ``send(endpoint, event)`` returns when the destination accepted the event, or raises:

- :class:`DeliveryFailedError` -- the attempt failed (non-2xx answer, timeout, refused
  connection, redirect): the bus retries it on the endpoint's schedule. ``status`` and
  ``snippet`` (the start of the answer) end up in the dead letter's ``deadlettererror``.
- :class:`RetryAfterError` -- ``429``/``503`` with ``Retry-After``: retried no sooner than that.
- :class:`EndpointGoneError` -- ``410 Gone``: the endpoint is disabled, the event dead-lettered.

:class:`HttpSink` posts the event with the CloudEvents HTTP binding (binary or structured, as
the endpoint says) plus the Standard Webhooks headers, with httpx, redirects not followed.
"""

from __future__ import annotations

import email.utils
import hashlib
import math
import time
from typing import Any, Final, Protocol

from eventbus._errors import RetryLaterError, WebhookError
from eventbus._redact import redact_url
from eventbus._store._dbutil import require
from eventbus._webhooks._model import Endpoint
from eventbus._webhooks._signature import signature_headers
from eventbus._webhooks._ssrf import DestinationGuard
from eventbus._wire._event import Event
from eventbus._wire._http import to_http

__all__ = [
    "DeliveryFailedError",
    "EndpointGoneError",
    "HandshakeError",
    "HttpSink",
    "RetryAfterError",
    "Sink",
    "retry_after_seconds",
    "webhook_id",
]

SNIPPET: Final = 200
MAX_RETRY_AFTER: Final = 86_400.0
USER_AGENT: Final = "eventbus-webhooks"


class DeliveryFailedError(WebhookError):
    """One delivery attempt failed. ``status`` is the HTTP status (None: no answer)."""

    def __init__(
        self, message: str, *, status: int | None = None, snippet: str = "", protocol: str = "HTTP"
    ) -> None:
        self.status = status
        self.snippet = snippet
        text = f"{protocol} {status}: {message}" if status is not None else message
        super().__init__(f"{text} | {snippet}" if snippet else text)


class RetryAfterError(DeliveryFailedError, RetryLaterError):
    """The endpoint asked to be called again later (429 / 503 with ``Retry-After``)."""

    def __init__(self, message: str, *, status: int, snippet: str, delay: float) -> None:
        DeliveryFailedError.__init__(self, message, status=status, snippet=snippet)
        self.delay = delay


class EndpointGoneError(DeliveryFailedError):
    """The endpoint answered ``410 Gone``: it does not want events any more."""


class HandshakeError(WebhookError):
    """The endpoint did not complete the CloudEvents abuse-protection handshake."""


class Sink(Protocol):
    """Delivers one event to one endpoint (see the module docstring for the outcomes)."""

    def accepts(self, endpoint: Endpoint) -> bool: ...
    async def send(self, endpoint: Endpoint, event: Event[Any]) -> None: ...
    async def close(self) -> None: ...


def webhook_id(event: Event[Any]) -> str:
    """The ``webhook-id`` of an event: the same for every attempt and every replay, derived
    from the event's identity (``source`` + ``id``)."""
    digest = hashlib.sha256(f"{event.source}\n{event.id}".encode()).hexdigest()
    return "msg_" + digest[:32]


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` (delta-seconds or an HTTP date) in seconds, capped at a day."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    delay = when.timestamp() - (time.time() if now is None else now)
    return min(max(0.0, delay), MAX_RETRY_AFTER) if math.isfinite(delay) else None


def _snippet(body: bytes) -> str:
    text = body[: SNIPPET * 4].decode("utf-8", "replace")
    return " ".join(text.split())[:SNIPPET]


class HttpSink:
    """Posts events to ``http(s)://`` endpoints with one shared httpx client."""

    def __init__(self, guard: DestinationGuard | None = None, *, transport: Any = None) -> None:
        httpx = require("httpx", "webhooks")
        self.guard = guard or DestinationGuard()
        self._httpx: Any = httpx
        limits = httpx.Limits(max_connections=256, max_keepalive_connections=64)
        self._client: Any = httpx.AsyncClient(
            follow_redirects=False, limits=limits, transport=transport, trust_env=False
        )

    def accepts(self, endpoint: Endpoint) -> bool:
        return endpoint.url.startswith(("http://", "https://"))

    def request(self, endpoint: Endpoint, event: Event[Any]) -> tuple[dict[str, str], bytes]:
        """The headers and body of the request for ``event`` (signed now)."""
        headers, body = to_http(event, endpoint.content_mode)
        headers.update(
            signature_headers(webhook_id(event), int(time.time()), body, endpoint.secrets)
        )
        headers["user-agent"] = USER_AGENT
        return headers, body

    async def send(self, endpoint: Endpoint, event: Event[Any]) -> None:
        await self.guard.check(endpoint.url)
        headers, body = self.request(endpoint, event)
        httpx = self._httpx
        try:
            response = await self._client.post(
                endpoint.url, content=body, headers=headers, timeout=endpoint.timeout
            )
        except httpx.TimeoutException:
            raise DeliveryFailedError(
                f"no answer from {redact_url(endpoint.url)} within {endpoint.timeout:g} s"
            ) from None
        except httpx.HTTPError as exc:
            raise DeliveryFailedError(
                f"request to {redact_url(endpoint.url)} failed: {type(exc).__name__}"
            ) from None
        await self.outcome(endpoint, response.status_code, response.headers, response.content)

    async def outcome(self, endpoint: Endpoint, status: int, headers: Any, body: bytes) -> None:
        if 200 <= status < 300:
            return
        snippet = _snippet(body)
        if status == 410:
            raise EndpointGoneError("410 Gone: the endpoint is disabled", status=410)
        if status in (429, 503):
            delay = retry_after_seconds(headers.get("retry-after"))
            if delay is not None:
                raise RetryAfterError(
                    f"asked to retry after {delay:g} s", status=status, snippet=snippet, delay=delay
                )
        if 300 <= status < 400:
            location = redact_url(headers.get("location", "") or "")
            raise DeliveryFailedError(
                f"redirect to {location!r} not followed", status=status, snippet=snippet
            )
        raise DeliveryFailedError("non-2xx answer", status=status, snippet=snippet)

    async def handshake(self, endpoint: Endpoint, origin: str) -> int | None:
        """The CloudEvents HTTP webhook abuse-protection handshake (``OPTIONS``).

        Sends ``WebHook-Request-Origin: origin`` (and ``WebHook-Request-Rate`` when the
        endpoint has a rate limit); the endpoint must answer 2xx with ``WebHook-Allowed-Origin``
        equal to ``origin`` or ``*``. Returns the ``WebHook-Allowed-Rate`` it granted (requests
        per minute), None for no limit. Raises HandshakeError.
        """
        await self.guard.check(endpoint.url)
        where = redact_url(endpoint.url)
        headers = {"webhook-request-origin": origin, "user-agent": USER_AGENT}
        if endpoint.rate_limit is not None:
            headers["webhook-request-rate"] = str(endpoint.rate_limit)
        try:
            response = await self._client.options(
                endpoint.url, headers=headers, timeout=endpoint.timeout
            )
        except self._httpx.HTTPError as exc:
            raise HandshakeError(
                f"abuse-protection handshake with {where} failed: {type(exc).__name__}"
            ) from None
        if not 200 <= response.status_code < 300:
            raise HandshakeError(
                f"{where} answered the abuse-protection handshake (OPTIONS) with HTTP "
                f"{response.status_code}; it must answer 2xx with WebHook-Allowed-Origin "
                "(or add the endpoint with the handshake switched off)"
            )
        allowed = response.headers.get("webhook-allowed-origin")
        if allowed not in (origin, "*"):
            raise HandshakeError(
                f"{where} did not allow origin {origin!r} in the abuse-protection handshake "
                f"(WebHook-Allowed-Origin: {allowed!r})"
            )
        rate = (response.headers.get("webhook-allowed-rate") or "").strip()
        if rate.isdigit() and int(rate) > 0:
            return int(rate)
        return None

    async def close(self) -> None:
        await self._client.aclose()
