"""Everything an adapter plugin needs, in one import: ``from eventbus.adapter import ...``.

The adapter contract (``Adapter``, ``Delivery``, ``Capabilities``...), ``Message``, the
``hookimpl`` marker for the ``eventbus_adapters`` hook, and the errors an adapter raises when it
translates its broker SDK's exceptions. An adapter imports nothing else from eventbus: not the
bus, not the bindings, not ``Event``.
"""

from eventbus._adapter import (
    DEAD_LETTER_GROUP,
    Adapter,
    AdapterFactory,
    AdapterInfo,
    AdapterSubscription,
    Browsed,
    BrowsingAdapter,
    Capabilities,
    DeadLetter,
    Deliver,
    Delivery,
    GroupAdminAdapter,
    GroupInfo,
    Limits,
    RemovingAdapter,
    Semantic,
    SubscriptionSpec,
    Support,
)
from eventbus._errors import (
    AdapterError,
    BrokerConnectionError,
    ChannelNameError,
    ConfigurationError,
    LimitExceededError,
    PublishError,
    UnsupportedSemanticError,
    redact_url,
)
from eventbus._hookspecs import hookimpl
from eventbus._message import HeaderValue, Message

__all__ = [
    "DEAD_LETTER_GROUP",
    "Adapter",
    "AdapterError",
    "AdapterFactory",
    "AdapterInfo",
    "AdapterSubscription",
    "BrokerConnectionError",
    "Browsed",
    "BrowsingAdapter",
    "Capabilities",
    "ChannelNameError",
    "ConfigurationError",
    "DeadLetter",
    "Deliver",
    "Delivery",
    "GroupAdminAdapter",
    "GroupInfo",
    "HeaderValue",
    "LimitExceededError",
    "Limits",
    "Message",
    "PublishError",
    "RemovingAdapter",
    "Semantic",
    "SubscriptionSpec",
    "Support",
    "UnsupportedSemanticError",
    "hookimpl",
    "redact_url",
]
