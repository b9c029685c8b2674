"""The AWS adapter passes the conformance suite on moto's server, through aiobotocore."""

from __future__ import annotations

import pytest
from moto_launcher import MotoServer

from eventbus.testing import AdapterConformance


class TestSqsConformance(AdapterConformance):
    # moto's server does about 20 request round trips a second (two SNS publishes, two SQS
    # receives and deletes each): 1,000 at once would outlast the scenario's timeout.
    concurrent_requests = 100

    @pytest.fixture
    def bus_url(self, moto: MotoServer) -> str:
        return moto.url(wait_time=1, pollers=1)  # see test_aws_dlq.checks
