"""Fixtures for the contract tests: the shipped registry, scratch registries, fetched tools."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from eventbus import Registry

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "contracts"
sys.path.insert(0, str(ROOT / "tests"))

from _fetch import asyncapi_html_tools, asyncapi_parser, json_schema_test_suite  # noqa: E402


@pytest.fixture(scope="session")
def shipped() -> Registry:
    return Registry(SHIPPED)


@pytest.fixture
def registry_copy(tmp_path: Path) -> Path:
    """A copy of the shipped registry to break on purpose."""
    target = tmp_path / "contracts"
    shutil.copytree(SHIPPED, target)
    return target


WriteJson = Callable[[Path, Any], Path]


@pytest.fixture
def write_json() -> WriteJson:
    def write(path: Path, data: Any) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2), encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def suite_root() -> Path:
    """The official JSON-Schema-Test-Suite, fetched from the jsonschema sdist on PyPI."""
    return json_schema_test_suite()


@pytest.fixture(scope="session")
def asyncapi_modules() -> Path:
    """node_modules holding the official @asyncapi/parser, installed from npm."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("node and npm are needed to validate the AsyncAPI export", pytrace=False)
    return asyncapi_parser()


@pytest.fixture(scope="session")
def asyncapi_html_modules() -> Path:
    """node_modules holding the official @asyncapi/cli and @asyncapi/html-template (npm)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("node and npm are needed to render the AsyncAPI export", pytrace=False)
    return asyncapi_html_tools()
