"""Webhook endpoints and their retry schedule: plain values, checked when built.

An :class:`Endpoint` is what a store keeps: where to send (``url``), which events
(``event_types``: types or type patterns, as ``bus.subscribe`` takes them), the signing
``secrets`` (several during a rotation), the ``content_mode`` of the CloudEvents HTTP binding,
the request ``timeout``, an optional ``rate_limit`` (requests per minute), whether it is
``enabled`` (and why not), its retry ``schedule`` and whether the abuse-protection ``handshake``
runs when it is added. Secrets never appear in ``repr``.
"""

from __future__ import annotations

import math
import random
import secrets as _random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final, Literal
from urllib.parse import urlsplit

from eventbus._bus._retry import RetryPolicy
from eventbus._errors import ConfigurationError
from eventbus._redact import redact_url
from eventbus._webhooks._signature import WebhookSecret, parse_secrets

__all__ = [
    "DEFAULT_SCHEDULE",
    "Endpoint",
    "ScheduleRetry",
    "dead_letter_channel",
    "endpoint_channel",
    "new_endpoint_id",
]

#: Delays before the 2nd, 3rd... attempt: Svix's schedule (immediately, then 5 s, 5 min,
#: 30 min, 2 h, 5 h, 10 h, 10 h), so 8 attempts over about 27.6 hours.
DEFAULT_SCHEDULE: Final[tuple[float, ...]] = (5, 300, 1800, 7200, 18000, 36000, 36000)
ContentModeName = Literal["binary", "structured"]
_CHANNEL_PREFIX: Final = "eventbus.webhooks"


def new_endpoint_id() -> str:
    return "ep_" + _random.token_hex(8)


def endpoint_channel(endpoint_id: str) -> str:
    """The endpoint's own channel: tests and replays sent to it reach only this endpoint."""
    return f"{_CHANNEL_PREFIX}.{endpoint_id}"


def dead_letter_channel(endpoint_id: str) -> str:
    """Where the endpoint's exhausted deliveries go."""
    return f"{_CHANNEL_PREFIX}.{endpoint_id}.dlq"


@dataclass(frozen=True, slots=True)
class ScheduleRetry(RetryPolicy):
    """A :class:`~eventbus.RetryPolicy` that follows an explicit schedule.

    ``schedule[n-1]`` is the delay after failed attempt ``n``, scaled by a random factor in
    ``[1 - jitter, 1 + jitter]``; ``max_attempts`` is ``len(schedule) + 1``.
    """

    schedule: tuple[float, ...] = DEFAULT_SCHEDULE

    def __post_init__(self) -> None:
        RetryPolicy.__post_init__(self)
        if self.max_attempts != len(self.schedule) + 1:
            raise ConfigurationError(
                f"ScheduleRetry: max_attempts must be len(schedule) + 1 = "
                f"{len(self.schedule) + 1}, got {self.max_attempts}"
            )

    @classmethod
    def of(cls, schedule: Sequence[float], jitter: float = 0.2) -> ScheduleRetry:
        steps = tuple(float(s) for s in schedule)
        return cls(max_attempts=len(steps) + 1, schedule=steps, jitter=jitter)

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        if not self.schedule:
            return 0.0
        base = self.schedule[min(max(attempt, 1), len(self.schedule)) - 1]
        if self.jitter:
            base *= 1 + self.jitter * (2 * (rng or random).random() - 1)
        return max(0.0, base)


def _check_url(url: str) -> str:
    if not isinstance(url, str):
        raise ConfigurationError(f"endpoint url must be a string, got {type(url).__name__}")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError as exc:
        raise ConfigurationError(f"endpoint url {redact_url(url)!r} is not valid: {exc}") from None
    if parts.scheme not in ("http", "https", "mailto") or (
        parts.scheme != "mailto" and not parts.hostname
    ):
        raise ConfigurationError(
            f"endpoint url {redact_url(url)!r} must be http://host/..., https://host/... "
            "or mailto:address"
        )
    return url


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One webhook endpoint (see the module docstring). Build with :meth:`new` to get checks
    and defaults; ``id`` is ``ep_`` and 16 hex digits."""

    id: str
    url: str
    event_types: tuple[str, ...]
    secrets: tuple[WebhookSecret, ...] = field(repr=False)
    content_mode: ContentModeName = "binary"
    timeout: float = 15.0
    rate_limit: int | None = None
    enabled: bool = True
    disabled_reason: str | None = None
    schedule: tuple[float, ...] = DEFAULT_SCHEDULE
    handshake: bool = True
    description: str = ""

    def __post_init__(self) -> None:
        problems: list[str] = []
        _check_url(self.url)
        if not self.event_types or not all(
            isinstance(t, str) and t.strip() for t in self.event_types
        ):
            problems.append("event_types must name at least one event type or pattern")
        if not self.secrets:
            problems.append("at least one signing secret is required")
        if self.content_mode not in ("binary", "structured"):
            problems.append(
                f"content_mode must be 'binary' or 'structured', got {self.content_mode!r}"
            )
        if not (isinstance(self.timeout, int | float) and 0 < self.timeout <= 300):
            problems.append(f"timeout must be within (0, 300] seconds, got {self.timeout!r}")
        if self.rate_limit is not None and not (
            isinstance(self.rate_limit, int) and self.rate_limit >= 1
        ):
            problems.append(
                f"rate_limit must be None or >= 1 request per minute, got {self.rate_limit!r}"
            )
        if not all(
            isinstance(s, int | float) and math.isfinite(s) and s >= 0 for s in self.schedule
        ):
            problems.append("every delay of the retry schedule must be a finite number >= 0")
        if problems:
            raise ConfigurationError(
                f"invalid webhook endpoint {redact_url(self.url)!r}: " + "; ".join(problems)
            )

    @classmethod
    def new(
        cls,
        url: str,
        event_types: str | Sequence[str],
        *,
        secrets: WebhookSecret | str | Sequence[WebhookSecret | str] | None = None,
        **options: Any,
    ) -> Endpoint:
        types = (event_types,) if isinstance(event_types, str) else tuple(event_types)
        keys = parse_secrets(secrets) if secrets is not None else (WebhookSecret.generate(),)
        if "schedule" in options:
            options["schedule"] = tuple(float(s) for s in options["schedule"])
        return cls(new_endpoint_id(), url, types, keys, **options)

    def __repr__(self) -> str:
        state = "enabled" if self.enabled else f"disabled ({self.disabled_reason})"
        return (
            f"Endpoint({self.id!r}, {redact_url(self.url)!r}, {list(self.event_types)!r}, "
            f"{self.content_mode}, {state})"
        )

    @property
    def channel(self) -> str:
        return endpoint_channel(self.id)

    @property
    def dead_letter_channel(self) -> str:
        return dead_letter_channel(self.id)

    @property
    def retry(self) -> ScheduleRetry:
        return ScheduleRetry.of(self.schedule)

    def with_changes(self, **changes: Any) -> Endpoint:
        return replace(self, **changes)

    def summary(self) -> dict[str, Any]:
        """A JSON-ready description without secrets (the CLI prints it)."""
        return {
            "id": self.id,
            "url": redact_url(self.url),
            "event_types": list(self.event_types),
            "content_mode": self.content_mode,
            "timeout": self.timeout,
            "rate_limit": self.rate_limit,
            "enabled": self.enabled,
            "disabled_reason": self.disabled_reason,
            "schedule": list(self.schedule),
            "handshake": self.handshake,
            "secrets": len(self.secrets),
            "description": self.description,
        }
