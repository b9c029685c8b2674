"""eventbus: CloudEvents over any broker through one API (facade; filled in as modules land)."""

from eventbus._adapter import (
    Adapter,
    AdapterInfo,
    AdapterSubscription,
    Capabilities,
    DeadLetter,
    Delivery,
    Limits,
    Semantic,
    SubscriptionSpec,
    Support,
)
from eventbus._errors import *  # noqa: F403
from eventbus._event import Event
from eventbus._message import Message

__version__ = "0.1.0"
