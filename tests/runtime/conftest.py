"""Fixtures of the ``eventbus run`` tests: services started as subprocesses, always stopped."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from service_harness import Service


@pytest.fixture
def start_service(tmp_path: Path) -> Iterator[Callable[..., Service]]:
    started: list[Service] = []

    def start(target: str, *args: str, **env: Any) -> Service:
        service = Service(tmp_path, target, args, **env)
        started.append(service)
        return service

    try:
        yield start
    finally:
        for service in started:
            service.stop()
