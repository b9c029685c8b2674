"""``WebhookCallbacks``: deliver job completions to each job's callback URL as signed webhooks.

It subscribes (a consumer group) to the completion events :class:`PublishCompletion` publishes
and posts each to the URL in its ``jobcallback`` attribute through the webhook sender's
:class:`~eventbus.webhooks.HttpSink`: the CloudEvents HTTP binding plus Standard Webhooks
signature headers, redirects not followed, private addresses refused unless allow-listed.
A failed post is retried by the bus on the endpoint retry schedule (a ``Retry-After`` is
honoured); ``410 Gone`` stops; an exhausted or unusable callback is dead-lettered.
Needs ``pip install "eventbus[webhooks]"``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from eventbus._bus._consumer import Subscription
from eventbus._errors import ConfigurationError, RejectedEventError
from eventbus._jobs._events import JOB_CALLBACK
from eventbus._wire._event import Event

if TYPE_CHECKING:
    from eventbus._jobs._jobs import Jobs
    from eventbus._webhooks._signature import SecretsArg
    from eventbus._webhooks._sinks import Sink
    from eventbus._webhooks._ssrf import DestinationGuard

__all__ = ["WebhookCallbacks"]

log = logging.getLogger("eventbus.jobs")


class WebhookCallbacks:
    """``async with WebhookCallbacks(jobs, secrets):`` delivers the completions of ``jobs``'s
    jobs that name a callback URL while the block runs (use the default ``on_complete``).

    ``secrets``: the signing secret(s) (``whsec_...``) receivers verify with; ``guard``: a
    :class:`~eventbus.webhooks.DestinationGuard` (allow-list private networks there);
    ``schedule``: seconds before each retry (default 1, 5, 30, 120, 600); ``timeout``: per
    request; ``group``: the consumer group; ``sink``: another sink (tests).
    """

    def __init__(
        self,
        jobs: Jobs,
        secrets: SecretsArg,
        *,
        guard: DestinationGuard | None = None,
        schedule: Sequence[float] = (1.0, 5.0, 30.0, 120.0, 600.0),
        timeout: float = 15.0,
        group: str = "eventbus-job-callbacks",
        sink: Sink | None = None,
    ) -> None:
        from eventbus._webhooks._model import Endpoint, ScheduleRetry
        from eventbus._webhooks._signature import parse_secrets

        self._jobs = jobs
        self._secrets = parse_secrets(secrets)
        self._timeout = timeout
        self._schedule = tuple(float(s) for s in schedule)
        self._retry = ScheduleRetry.of(self._schedule)
        self._endpoint = Endpoint
        self._group = group
        self._guard = guard
        self._sink = sink
        self._owns_sink = sink is None
        self._subscription: Subscription | None = None
        self.delivered = 0
        self.gone = 0

    def __repr__(self) -> str:
        return f"WebhookCallbacks({self._jobs!r}, group={self._group!r})"

    async def __aenter__(self) -> WebhookCallbacks:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Subscribe to the completion events (the bus must be open, or open later)."""
        if self._subscription is not None:
            return
        if self._sink is None:
            from eventbus._webhooks._sinks import HttpSink

            self._sink = HttpSink(self._guard)
        kind = f"{self._jobs.events_prefix}.completed"
        self._subscription = self._jobs.bus.subscribe(
            kind, self._deliver, group=self._group, retry=self._retry
        )
        if self._jobs.bus.is_open:
            await self._subscription

    async def close(self) -> None:
        if self._subscription is not None:
            await self._subscription.close()
            self._subscription = None
        if self._sink is not None and self._owns_sink:
            await self._sink.close()
            self._sink = None

    async def _deliver(self, event: Event[Any]) -> None:
        from eventbus._webhooks._sinks import EndpointGoneError

        url = event.extensions.get(JOB_CALLBACK)
        if not isinstance(url, str) or not url:
            raise RejectedEventError(
                f"completion event {event.id} names no callback URL", reason="no-callback"
            )
        try:
            endpoint = self._endpoint.new(
                url,
                event.type,
                secrets=self._secrets,
                timeout=self._timeout,
                schedule=self._schedule,
                handshake=False,
            )
        except ConfigurationError as exc:
            raise RejectedEventError(str(exc), reason="bad-callback") from exc
        assert self._sink is not None
        try:
            await self._sink.send(endpoint, event)
        except EndpointGoneError:
            self.gone += 1
            log.warning("eventbus: the callback of job %s answered 410 Gone", event.subject)
            return
        self.delivered += 1
