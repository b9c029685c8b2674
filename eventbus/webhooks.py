"""Webhooks: deliver bus events to HTTP endpoints (and by mail), signed the Standard Webhooks
way, with retries, circuit breakers and dead letters; verify signatures on the receiving side.

Everything here is public; the modules behind it (``eventbus._webhooks``) are private. See
docs/webhooks.md. Importing this module imports no HTTP or SMTP client: ``httpx`` and
``aiosmtplib`` (the ``eventbus[webhooks]`` extra) are loaded when a sink is created.
"""

from eventbus._errors import WebhookError, WebhookSignatureError
from eventbus._webhooks._delivery import DISABLED_TYPE, WebhookDelivery
from eventbus._webhooks._manage import TEST_TYPE, Webhooks
from eventbus._webhooks._model import (
    DEFAULT_SCHEDULE,
    Endpoint,
    ScheduleRetry,
    dead_letter_channel,
    endpoint_channel,
)
from eventbus._webhooks._signature import (
    DEFAULT_TOLERANCE,
    Verified,
    WebhookSecret,
    sign,
    signature_headers,
    verify,
)
from eventbus._webhooks._sinks import (
    DeliveryFailedError,
    EndpointGoneError,
    HandshakeError,
    HttpSink,
    RetryAfterError,
    Sink,
    retry_after_seconds,
    webhook_id,
)
from eventbus._webhooks._smtp import SmtpSink
from eventbus._webhooks._ssrf import DestinationGuard, DestinationRefusedError
from eventbus._webhooks._store import (
    EndpointStore,
    PostgresEndpointStore,
    SqliteEndpointStore,
    UnknownEndpointError,
    open_endpoint_store,
)

__all__ = [
    "DEFAULT_SCHEDULE",
    "DEFAULT_TOLERANCE",
    "DISABLED_TYPE",
    "TEST_TYPE",
    "DeliveryFailedError",
    "DestinationGuard",
    "DestinationRefusedError",
    "Endpoint",
    "EndpointGoneError",
    "EndpointStore",
    "HandshakeError",
    "HttpSink",
    "PostgresEndpointStore",
    "RetryAfterError",
    "ScheduleRetry",
    "Sink",
    "SmtpSink",
    "SqliteEndpointStore",
    "UnknownEndpointError",
    "Verified",
    "WebhookDelivery",
    "WebhookError",
    "WebhookSecret",
    "WebhookSignatureError",
    "Webhooks",
    "dead_letter_channel",
    "endpoint_channel",
    "open_endpoint_store",
    "retry_after_seconds",
    "sign",
    "signature_headers",
    "verify",
    "webhook_id",
]
