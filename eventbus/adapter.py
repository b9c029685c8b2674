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
    Capabilities,
    DeadLetter,
    Deliver,
    Delivery,
    Limits,
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
    "Capabilities",
    "ChannelNameError",
    "ConfigurationError",
    "DeadLetter",
    "Deliver",
    "Delivery",
    "HeaderValue",
    "LimitExceededError",
    "Limits",
    "Message",
    "PublishError",
    "Semantic",
    "SubscriptionSpec",
    "Support",
    "hookimpl",
    "redact_url",
]
