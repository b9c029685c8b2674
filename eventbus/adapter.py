"""Everything an adapter plugin needs, in one import: ``from eventbus.adapter import ...``.

The adapter contract (``Adapter``, ``Delivery``, ``Capabilities``...), ``Message``, the
``hookimpl`` marker for the ``eventbus_adapters`` hook, the errors an adapter raises when it
translates its broker SDK's exceptions, and the helpers every adapter needs (written once, in
``eventbus._adapter._toolkit``): channel and pattern checks (``check_channel``, ``check_pattern``,
``ChannelNames``), URL parsing (``split_url``, ``parse_hosts_url``, ``parse_params``, ``Param``), secret hiding
(``redact_url``, ``redact_text``, ``Scrubber``), the broker dedupe id of an event
(``broker_dedupe_id``), and from ``_adapter._helpers`` configuration number checks
(``check_positive``), length-limited broker names (``fit_name``) and bounded SDK error texts
(``first_line``). An adapter imports nothing else from eventbus: not the bus, not the
bindings, not ``Event``.
"""

from eventbus._adapter._contract import (
    DEAD_LETTER_GROUP,
    Adapter,
    AdapterFactory,
    AdapterInfo,
    AdapterSubscription,
    BatchingAdapter,
    BatchSubscription,
    Browsed,
    BrowsingAdapter,
    Capabilities,
    DeadLetter,
    Deliver,
    DeliverMany,
    Delivery,
    GroupAdminAdapter,
    GroupInfo,
    Limits,
    RemovingAdapter,
    ReplyingAdapter,
    ReplyListener,
    Semantic,
    SubscriptionSpec,
    Support,
)
from eventbus._adapter._helpers import check_positive, first_line, fit_name
from eventbus._adapter._hookspecs import hookimpl
from eventbus._adapter._keygate import OrderingGate
from eventbus._adapter._toolkit import (
    ChannelNames,
    HostsUrl,
    Param,
    Reader,
    broker_dedupe_id,
    check_channel,
    check_pattern,
    parse_hosts_url,
    parse_params,
    split_url,
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
from eventbus._redact import Scrubber, redact_text
from eventbus._wire._message import HeaderValue, Message

__all__ = [
    "DEAD_LETTER_GROUP",
    "Adapter",
    "AdapterError",
    "AdapterFactory",
    "AdapterInfo",
    "AdapterSubscription",
    "BatchSubscription",
    "BatchingAdapter",
    "BrokerConnectionError",
    "Browsed",
    "BrowsingAdapter",
    "Capabilities",
    "ChannelNameError",
    "ChannelNames",
    "ConfigurationError",
    "DeadLetter",
    "Deliver",
    "DeliverMany",
    "Delivery",
    "GroupAdminAdapter",
    "GroupInfo",
    "HeaderValue",
    "HostsUrl",
    "LimitExceededError",
    "Limits",
    "Message",
    "OrderingGate",
    "Param",
    "PublishError",
    "Reader",
    "RemovingAdapter",
    "ReplyListener",
    "ReplyingAdapter",
    "Scrubber",
    "Semantic",
    "SubscriptionSpec",
    "Support",
    "UnsupportedSemanticError",
    "broker_dedupe_id",
    "check_channel",
    "check_pattern",
    "check_positive",
    "first_line",
    "fit_name",
    "hookimpl",
    "parse_hosts_url",
    "parse_params",
    "redact_text",
    "redact_url",
    "split_url",
]
