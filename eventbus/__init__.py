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
from eventbus._bindings import ContentMode, annotate, decode, encode
from eventbus._bus import EventBus
from eventbus._consumer import DEAD_LETTER_ATTRIBUTES, Subscription, SubscriptionStats
from eventbus._errors import (
    AdapterError,
    BrokerConnectionError,
    BusClosedError,
    ChannelNameError,
    ConfigurationError,
    DataDecodeError,
    DecodeError,
    EncodeError,
    EventBusError,
    InvalidEventError,
    LimitExceededError,
    Problem,
    PublishError,
    RejectedEventError,
    UnknownSchemeError,
    UnsupportedSemanticError,
    redact_url,
)
from eventbus._event import Event
from eventbus._format import from_json, from_json_batch, to_json, to_json_batch
from eventbus._hookspecs import hookimpl
from eventbus._message import HeaderValue, Message
from eventbus._middleware import ConsumeContext, Middleware
from eventbus._plugins import adapter_infos, create_adapter
from eventbus._retry import RetryPolicy
from eventbus._router import Router
from eventbus._sdk import from_sdk, to_sdk
from eventbus._sync import SyncEventBus

__version__ = "0.1.0"

__all__ = [
    "DEAD_LETTER_ATTRIBUTES",
    "DEAD_LETTER_GROUP",
    "Adapter",
    "AdapterError",
    "AdapterInfo",
    "AdapterSubscription",
    "BrokerConnectionError",
    "BusClosedError",
    "Capabilities",
    "ChannelNameError",
    "ConfigurationError",
    "ConsumeContext",
    "ContentMode",
    "DataDecodeError",
    "DeadLetter",
    "DecodeError",
    "Deliver",
    "Delivery",
    "EncodeError",
    "Event",
    "EventBus",
    "EventBusError",
    "HeaderValue",
    "InvalidEventError",
    "LimitExceededError",
    "Limits",
    "Message",
    "Middleware",
    "Problem",
    "PublishError",
    "RejectedEventError",
    "RetryPolicy",
    "Router",
    "Semantic",
    "Subscription",
    "SubscriptionSpec",
    "SubscriptionStats",
    "Support",
    "SyncEventBus",
    "UnknownSchemeError",
    "UnsupportedSemanticError",
    "__version__",
    "adapter_infos",
    "annotate",
    "create_adapter",
    "decode",
    "encode",
    "from_json",
    "from_json_batch",
    "from_sdk",
    "hookimpl",
    "redact_url",
    "to_json",
    "to_json_batch",
    "to_sdk",
]
