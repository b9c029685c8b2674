"""eventbus-servicebus: the Azure Service Bus adapter for eventbus.

Installed, it serves ``servicebus://`` URLs: ``EventBus("servicebus://my-namespace")`` signs
in with azure-identity; ``servicebus://KEYNAME:KEY@HOST`` uses a shared access key. For a
connection string in code, build a :class:`ServiceBusAdapter` from a :class:`ServiceBusConfig`
and pass it to ``EventBus``. See docs/adapters/servicebus.md.
"""

from eventbus_servicebus._adapter import ServiceBusAdapter
from eventbus_servicebus._capabilities import CAPABILITIES
from eventbus_servicebus._config import ServiceBusConfig
from eventbus_servicebus._url import parse_servicebus_url

__all__ = ["CAPABILITIES", "ServiceBusAdapter", "ServiceBusConfig", "parse_servicebus_url"]
