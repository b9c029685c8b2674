"""The aiobotocore clients (SNS, SQS, STS) of one adapter, opened on the running loop.

Credentials are resolved by botocore's standard chain (environment, shared config and
``profile``, SSO, container or instance role); the adapter never reads or stores a key itself.
The account id (for topic and queue ARNs) comes from STS ``GetCallerIdentity`` once, when a
name must be turned into an ARN, which needs no IAM permission.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession
from botocore.loaders import create_loader

from eventbus_aws._config import AwsConfig

if TYPE_CHECKING:
    from types_aiobotocore_sns import SNSClient
    from types_aiobotocore_sqs import SQSClient
    from types_aiobotocore_sts import STSClient

__all__ = ["Clients", "describe_endpoint", "open_clients"]

# Service models are large JSON files: one loader (a read-only cache) serves every session.
_LOADER = create_loader()


def describe_endpoint(config: AwsConfig) -> str:
    """Where the adapter talks to, for errors and reprs (no credentials ever)."""
    if config.endpoint is not None:
        return f"sqs://{config.region} at {config.endpoint}"
    return f"sqs://{config.region}"


class Clients:
    """The SNS, SQS and STS clients and the exit stack that closes them."""

    def __init__(
        self,
        sns: SNSClient,
        sqs: SQSClient,
        sts: STSClient,
        stack: contextlib.AsyncExitStack,
        region: str,
    ) -> None:
        self.sns = sns
        self.sqs = sqs
        self.sts = sts
        self.region = region
        self._stack = stack
        self._account: str | None = None
        self._partition = "aws"

    async def arn(self, service: str, name: str) -> str:
        """The ARN of the SNS topic or SQS queue ``name`` in this account and region."""
        if self._account is None:
            identity = await self.sts.get_caller_identity()
            self._account = identity["Account"]
            self._partition = identity["Arn"].split(":", 2)[1] or "aws"
        return f"arn:{self._partition}:{service}:{self.region}:{self._account}:{name}"

    async def close(self) -> None:
        await self._stack.aclose()


async def open_clients(config: AwsConfig) -> Clients:
    session = AioSession(profile=config.profile)
    session.register_component("data_loader", _LOADER)
    client_config = AioConfig(
        connect_timeout=config.timeout,
        read_timeout=config.timeout + config.wait_time,
        retries={"mode": "standard", "max_attempts": 3},
        max_pool_connections=64,
    )
    stack = contextlib.AsyncExitStack()
    try:
        region, endpoint = config.region, config.endpoint
        sns = await stack.enter_async_context(
            session.create_client(
                "sns", region_name=region, endpoint_url=endpoint, config=client_config
            )
        )
        sqs = await stack.enter_async_context(
            session.create_client(
                "sqs", region_name=region, endpoint_url=endpoint, config=client_config
            )
        )
        sts = await stack.enter_async_context(
            session.create_client(
                "sts", region_name=region, endpoint_url=endpoint, config=client_config
            )
        )
    except BaseException:
        await stack.aclose()
        raise
    return Clients(sns, sqs, sts, stack, config.region)
