"""eventbus-aws: the AWS SNS + SQS adapter for eventbus (``sqs://REGION``).

Install it and ``EventBus("sqs://us-east-1")`` works, with credentials from the standard AWS
chain; ``?endpoint=http://HOST:PORT`` points it at a local server. For typed configuration::

    from eventbus_aws import AwsConfig, SqsAdapter
    bus = EventBus(SqsAdapter(AwsConfig("eu-west-1", provision=False)))
"""

from eventbus_aws._adapter import SqsAdapter
from eventbus_aws._capabilities import CAPABILITIES
from eventbus_aws._config import AwsConfig
from eventbus_aws._delivery import SqsDelivery
from eventbus_aws._names import fanout_queue_name, group_queue_name, topic_name
from eventbus_aws._subscription import SqsSubscription
from eventbus_aws._url import parse_sqs_url

__all__ = [
    "CAPABILITIES",
    "AwsConfig",
    "SqsAdapter",
    "SqsDelivery",
    "SqsSubscription",
    "fanout_queue_name",
    "group_queue_name",
    "parse_sqs_url",
    "topic_name",
]
