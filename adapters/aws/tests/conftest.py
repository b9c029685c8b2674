"""Fixtures of the AWS adapter tests: one moto server (SNS + SQS) per test session."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from moto_launcher import TEST_CREDENTIALS, MotoServer, MotoUnavailable

from eventbus.testing import unavailable


@pytest.fixture(scope="session")
def aws_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Test credentials in the environment (the standard AWS chain reads them); no shared
    config or credentials files of the machine are read."""
    home = tmp_path_factory.mktemp("aws-home")
    values = {
        **TEST_CREDENTIALS,
        "AWS_CONFIG_FILE": str(home / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
    }
    saved = {k: os.environ.get(k) for k in [*values, "AWS_PROFILE", "AWS_SESSION_TOKEN"]}
    os.environ.pop("AWS_PROFILE", None)
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def moto(aws_env: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """moto's server on a free port, for the whole session."""
    try:
        server = MotoServer(tmp_path_factory.mktemp("moto")).start()
    except MotoUnavailable as exc:
        unavailable(str(exc))  # fails in CI, skips elsewhere
    try:
        yield server
    finally:
        server.stop()
