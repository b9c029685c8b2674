"""eventbus-pubsub: the Google Cloud Pub/Sub adapter for eventbus (``pubsub://PROJECT``).

Install it and ``EventBus("pubsub://my-project")`` works; ``PUBSUB_EMULATOR_HOST`` (or
``?emulator_host=HOST:PORT``) points it at an emulator. For typed configuration::

    from eventbus_pubsub import PubSubAdapter, PubSubConfig
    bus = EventBus(PubSubAdapter(PubSubConfig("my-project", provision=False)))
"""

from eventbus_pubsub._acks import AckStats, PubSubAckError
from eventbus_pubsub._adapter import PubSubAdapter
from eventbus_pubsub._capabilities import CAPABILITIES
from eventbus_pubsub._config import EMULATOR_ENV, FlowControl, PubSubConfig, RetryBackoff
from eventbus_pubsub._delivery import PubSubDelivery
from eventbus_pubsub._names import fanout_subscription_id, group_subscription_id
from eventbus_pubsub._subscription import PubSubSubscription
from eventbus_pubsub._url import parse_pubsub_url

__all__ = [
    "CAPABILITIES",
    "EMULATOR_ENV",
    "AckStats",
    "FlowControl",
    "PubSubAckError",
    "PubSubAdapter",
    "PubSubConfig",
    "PubSubDelivery",
    "PubSubSubscription",
    "RetryBackoff",
    "fanout_subscription_id",
    "group_subscription_id",
    "parse_pubsub_url",
]
