"""Typed configuration of the AWS adapter (every ``sqs://`` URL parameter maps here)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from eventbus.adapter import ConfigurationError

__all__ = ["MAX_WAIT_TIME", "AwsConfig"]

#: SQS long polling waits at most 20 s per ReceiveMessage call.
MAX_WAIT_TIME = 20
_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d+|[a-z0-9][a-z0-9\-]{0,62}")
_ENDPOINT = re.compile(r"https?://[^\s/?#@]+/?", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class AwsConfig:
    """Where and how the adapter talks to SNS and SQS.

    ``region``: the AWS region. ``endpoint``: an ``http(s)://HOST:PORT`` base URL for a local or
    private server (moto, LocalStack, a VPC endpoint); None means AWS itself. ``profile``: a
    named profile of the shared AWS config; credentials always come from the standard AWS chain
    (environment, profile, SSO, container or instance role), never from the URL.
    ``provision``: create missing topics, queues and subscriptions (otherwise they must exist).
    ``wait_time``: seconds one ReceiveMessage long poll waits (0..20); closing a subscription
    waits for the poll in flight, so it also bounds how long ``close`` takes.
    ``pollers``: concurrent ReceiveMessage loops per subscription (None: enough for
    ``max_in_flight``, 10 messages each, at most 4). ``timeout``: seconds for one API call
    (on top of ``wait_time`` for polls).
    """

    region: str
    endpoint: str | None = None
    profile: str | None = None
    provision: bool = True
    wait_time: int = MAX_WAIT_TIME
    pollers: int | None = None
    timeout: float = 30.0

    def __post_init__(self) -> None:
        if not _REGION.fullmatch(self.region):
            raise ConfigurationError(
                f"{self.region!r} is not an AWS region name (for example us-east-1): sqs://REGION"
            )
        if self.endpoint is not None and not _ENDPOINT.fullmatch(self.endpoint):
            raise ConfigurationError(
                "endpoint must be an http(s)://HOST[:PORT] base URL without credentials, path or "
                "query"
            )
        if not 0 <= self.wait_time <= MAX_WAIT_TIME:
            raise ConfigurationError(
                f"wait_time must be 0..{MAX_WAIT_TIME} seconds, got {self.wait_time!r}"
            )
        if self.pollers is not None and not 1 <= self.pollers <= 64:
            raise ConfigurationError(f"pollers must be 1..64, got {self.pollers!r}")
        if not (math.isfinite(self.timeout) and self.timeout > 0):
            raise ConfigurationError(f"timeout must be > 0 seconds, got {self.timeout!r}")

    def pollers_for(self, max_in_flight: int) -> int:
        if self.pollers is not None:
            return self.pollers
        return max(1, min(4, math.ceil(max_in_flight / 10)))
