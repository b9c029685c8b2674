"""What a test does when a server or toolchain it needs is missing."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

__all__ = ["unavailable"]

_FALSE = ("", "0", "false", "no")


def unavailable(reason: str) -> NoReturn:
    """Stop a test that cannot run here: fail in CI (``CI`` set, as CI services do), where
    every test must run, and skip elsewhere (a developer without the tool)."""
    if os.environ.get("CI", "").strip().lower() not in _FALSE:
        pytest.fail(f"{reason} (CI is set: missing tools fail the run)", pytrace=False)
    pytest.skip(reason)
