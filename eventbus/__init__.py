"""eventbus: CloudEvents over NATS, Google Cloud Pub/Sub, Azure Service Bus or in memory, one API.

Everything users need is importable from here; the modules behind it are private.
"""

from eventbus._adapter import (
    DEAD_LETTER_GROUP,
    Adapter,
    AdapterInfo,
    AdapterSubscription,
    Capabilities,
    DeadLetter,
    Deliver,
    Delivery,
    Limits,
    Semantic,
    SubscriptionSpec,
    Support,
)
from eventbus._breaker import BreakerState, CircuitBreaker
from eventbus._budget import RetryBudget
from eventbus._bus._consumer import DEAD_LETTER_ATTRIBUTES, Subscription, SubscriptionStats
from eventbus._bus._eventbus import EventBus
from eventbus._bus._handlers import HandlerGroup
from eventbus._bus._middleware import ConsumeContext, Middleware
from eventbus._bus._options import SubscribeOptions
from eventbus._bus._retry import RetryPolicy
from eventbus._bus._router import Router
from eventbus._bus._sync import SyncEventBus
from eventbus._contracts.compat import Change, CompatibilityResult, check_compatibility
from eventbus._contracts.expectations import ConsumerExpectation
from eventbus._contracts.middleware import ValidationMiddleware
from eventbus._contracts.model import CompatibilityMode, CompatibilityPolicy, Direction
from eventbus._contracts.registry import Registry
from eventbus._contracts.validate import SchemaValidator
from eventbus._dlq import DeadLetterEntry, DeadLetterFilter, DeadLetterQueue, ReplayResult
from eventbus._errors import (
    AdapterError,
    BrokerConnectionError,
    BusClosedError,
    ChannelNameError,
    ClaimLostError,
    ConfigurationError,
    ContractError,
    DataDecodeError,
    DecodeError,
    EncodeError,
    EventBusError,
    EventLoopError,
    InvalidEventError,
    InvalidSchemaError,
    LimitExceededError,
    Problem,
    PublishError,
    RegistryError,
    RejectedEventError,
    RetryLaterError,
    SchemaValidationError,
    StoreError,
    UnknownSchemaError,
    UnknownSchemeError,
    UnsupportedSemanticError,
    Violation,
    WebhookError,
    WebhookSignatureError,
    redact_url,
)
from eventbus._hookspecs import hookimpl
from eventbus._idempotency import (
    Claim,
    ClaimStatus,
    Idempotency,
    IdempotencyStats,
    IdempotencyStore,
    MemoryIdempotencyStore,
    PostgresIdempotencyStore,
    RedisIdempotencyStore,
    SqliteIdempotencyStore,
    current_claim,
)
from eventbus._logs import JsonFormatter, LoggingMiddleware
from eventbus._otel_metrics import (
    MetricsMiddleware,
    PrometheusExporter,
    prometheus_meter_provider,
    start_prometheus_exporter,
)
from eventbus._otel_tracing import TracingMiddleware, inject_trace_context
from eventbus._outbox import OutboxRelay, OutboxStore, PostgresOutbox, SqliteOutbox
from eventbus._plugins import adapter_infos, create_adapter
from eventbus._rpc import (
    NoRespondersError,
    RemoteHandlerError,
    RequestError,
    RequestStats,
    RequestTimeoutError,
)
from eventbus._wire._bindings import ContentMode, annotate, decode, encode
from eventbus._wire._event import Event
from eventbus._wire._format import from_json, from_json_batch, to_json, to_json_batch
from eventbus._wire._http import from_http, from_http_batch, to_http, to_http_batch
from eventbus._wire._message import HeaderValue, Message
from eventbus._wire._sdk import from_sdk, to_sdk

__version__ = "0.1.0"

__all__ = [
    "DEAD_LETTER_ATTRIBUTES",
    "DEAD_LETTER_GROUP",
    "Adapter",
    "AdapterError",
    "AdapterInfo",
    "AdapterSubscription",
    "BreakerState",
    "BrokerConnectionError",
    "BusClosedError",
    "Capabilities",
    "Change",
    "ChannelNameError",
    "CircuitBreaker",
    "Claim",
    "ClaimLostError",
    "ClaimStatus",
    "CompatibilityMode",
    "CompatibilityPolicy",
    "CompatibilityResult",
    "ConfigurationError",
    "ConsumeContext",
    "ConsumerExpectation",
    "ContentMode",
    "ContractError",
    "DataDecodeError",
    "DeadLetter",
    "DeadLetterEntry",
    "DeadLetterFilter",
    "DeadLetterQueue",
    "DecodeError",
    "Deliver",
    "Delivery",
    "Direction",
    "EncodeError",
    "Event",
    "EventBus",
    "EventBusError",
    "EventLoopError",
    "HandlerGroup",
    "HeaderValue",
    "Idempotency",
    "IdempotencyStats",
    "IdempotencyStore",
    "InvalidEventError",
    "InvalidSchemaError",
    "JsonFormatter",
    "LimitExceededError",
    "Limits",
    "LoggingMiddleware",
    "MemoryIdempotencyStore",
    "Message",
    "MetricsMiddleware",
    "Middleware",
    "NoRespondersError",
    "OutboxRelay",
    "OutboxStore",
    "PostgresIdempotencyStore",
    "PostgresOutbox",
    "Problem",
    "PrometheusExporter",
    "PublishError",
    "RedisIdempotencyStore",
    "Registry",
    "RegistryError",
    "RejectedEventError",
    "RemoteHandlerError",
    "ReplayResult",
    "RequestError",
    "RequestStats",
    "RequestTimeoutError",
    "RetryBudget",
    "RetryLaterError",
    "RetryPolicy",
    "Router",
    "SchemaValidationError",
    "SchemaValidator",
    "Semantic",
    "SqliteIdempotencyStore",
    "SqliteOutbox",
    "StoreError",
    "SubscribeOptions",
    "Subscription",
    "SubscriptionSpec",
    "SubscriptionStats",
    "Support",
    "SyncEventBus",
    "TracingMiddleware",
    "UnknownSchemaError",
    "UnknownSchemeError",
    "UnsupportedSemanticError",
    "ValidationMiddleware",
    "Violation",
    "WebhookError",
    "WebhookSignatureError",
    "__version__",
    "adapter_infos",
    "annotate",
    "check_compatibility",
    "create_adapter",
    "current_claim",
    "decode",
    "encode",
    "from_http",
    "from_http_batch",
    "from_json",
    "from_json_batch",
    "from_sdk",
    "hookimpl",
    "inject_trace_context",
    "prometheus_meter_provider",
    "redact_url",
    "start_prometheus_exporter",
    "to_http",
    "to_http_batch",
    "to_json",
    "to_json_batch",
    "to_sdk",
]
