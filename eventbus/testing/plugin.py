"""The eventbus pytest plugin (entry point ``pytest11``: ``eventbus``), loaded automatically.

Fixtures:

``eventbus_registry`` (session)
    The contract :class:`~eventbus.Registry`: ``--eventbus-contracts PATH``, else the ini option
    ``eventbus_contracts``, else ``contracts`` under the rootdir.
``eventbus_published``
    A :class:`~eventbus.testing.PublishedEvents` capture: ``assert_published(type, where=...)``,
    ``assert_not_published``, ``await wait_for(...)``.
``eventbus_bus``
    An :class:`~eventbus.EventBus` on a fresh ``memory://`` broker that validates every event
    against the registry (publish and consume) and records what it publishes in
    ``eventbus_published``. Not opened yet: ``async with eventbus_bus as bus: ...``.
``eventbus_contracts``
    :class:`ContractChecks` for consumer-driven contracts and data assertions.

Without a registry on disk, only the fixtures that need it fail, naming the path they tried.
The plugin also registers the ``basic://`` test adapter (:class:`~eventbus.testing.BasicAdapter`).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from eventbus._bus._eventbus import EventBus
from eventbus._contracts.expectations import ConsumerExpectation, unmet
from eventbus._contracts.expectations_types import expectation_from_type
from eventbus._contracts.middleware import ValidationMiddleware
from eventbus._contracts.registry import Registry
from eventbus.testing._basic import register_basic_adapter
from eventbus.testing._capture import PublishedEvents

__all__ = ["ContractChecks"]


def pytest_configure(config: pytest.Config) -> None:
    """Make the test adapter's ``basic://`` URLs available (see ``eventbus.testing``)."""
    register_basic_adapter()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("eventbus")
    group.addoption(
        "--eventbus-contracts",
        dest="eventbus_contracts",
        default=None,
        metavar="PATH",
        help="contract registry for the eventbus fixtures (default: ini eventbus_contracts)",
    )
    parser.addini(
        "eventbus_contracts", "contract registry path (default: contracts)", default="contracts"
    )


class ContractChecks:
    """Assertions against a registry, for producer and consumer tests."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def assert_valid(self, event_type: str, data: Any, version: int | None = None) -> None:
        """Data matches the schema (latest by default); the error lists every violation."""
        self.registry.validate(event_type, data, version)

    def assert_invalid(
        self, event_type: str, data: Any, *pointers: str, version: int | None = None
    ) -> None:
        """Data breaks the schema, at least at each of ``pointers``."""
        violations = self.registry.violations(event_type, data, version)
        if not violations:
            raise AssertionError(f"{event_type}: the data is valid, expected violations")
        found = {v.pointer for v in violations}
        missing = [p for p in pointers if p not in found]
        if missing:
            raise AssertionError(
                f"no violation at {', '.join(missing)}; violations: {'; '.join(map(str, violations))}"
            )

    def expectation(
        self, source: ConsumerExpectation | str | Path, event_type: str | None = None
    ) -> ConsumerExpectation:
        if isinstance(source, ConsumerExpectation):
            return source
        return ConsumerExpectation.load(Path(source), event_type)

    def verify_consumer(
        self, source: ConsumerExpectation | str | Path, event_type: str | None = None
    ) -> None:
        """Every producer version (from ``since_version``) satisfies the consumer's expectation."""
        expectation = self.expectation(source, event_type)
        if expectation.event_type is None:
            raise AssertionError("the expectation names no event type: pass event_type=")
        contract = self.registry.contract(expectation.event_type)
        problems = [
            f"v{sv.version} {pointer}: {problem}"
            for sv in contract.versions
            if sv.version >= expectation.since_version
            for pointer, problem in unmet(sv.schema, expectation)
        ]
        if problems:
            raise AssertionError(
                f"{expectation.consumer} on {contract.type}:\n  " + "\n  ".join(problems)
            )

    def verify_handler(
        self,
        consumer: str,
        event_type: str,
        data_type: Any,
        *,
        declared: ConsumerExpectation | str | Path | None = None,
        since_version: int = 1,
    ) -> ConsumerExpectation:
        """What a handler's ``Event[data_type]`` reads holds for every producer version, and,
        when ``declared`` (the consumer's contract file) is given, the file declares all of it,
        so the file cannot drift from the code. Returns the derived expectation."""
        derived = expectation_from_type(consumer, event_type, data_type)
        derived = ConsumerExpectation(consumer, event_type, derived.fields, since_version)
        self.verify_consumer(derived)
        if declared is not None:
            file = self.expectation(declared, event_type)
            on_file = {f.pointer: f for f in file.fields}
            gaps = []
            for want in derived.fields:
                have = on_file.get(want.pointer)
                if have is None:
                    if want.types != frozenset({"object"}):
                        gaps.append(f"{want.pointer}: read by the handler, not declared")
                elif want.required and not have.required:
                    gaps.append(f"{want.pointer}: required by the handler, optional in the file")
            if gaps:
                raise AssertionError(
                    f"{file.path or consumer} does not declare what {consumer} reads:\n  "
                    + "\n  ".join(gaps)
                )
        return derived


def _registry_path(config: pytest.Config) -> Path:
    value = config.getoption("eventbus_contracts") or config.getini("eventbus_contracts")
    path = Path(str(value))
    return path if path.is_absolute() else config.rootpath / path


@pytest.fixture(scope="session")
def eventbus_registry(pytestconfig: pytest.Config) -> Registry:
    path = _registry_path(pytestconfig)
    if not path.is_dir():
        pytest.fail(
            f"eventbus_registry: no contract registry at {path}; pass --eventbus-contracts PATH "
            "or set the eventbus_contracts ini option",
            pytrace=False,
        )
    return Registry(path)


@pytest.fixture
def eventbus_published() -> PublishedEvents:
    return PublishedEvents()


@pytest.fixture
def eventbus_url() -> str:
    return f"memory://pytest-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def eventbus_bus(
    eventbus_registry: Registry, eventbus_published: PublishedEvents, eventbus_url: str
) -> EventBus:
    return EventBus(
        eventbus_url, middleware=[ValidationMiddleware(eventbus_registry), eventbus_published]
    )


@pytest.fixture
def eventbus_contracts(eventbus_registry: Registry) -> ContractChecks:
    return ContractChecks(eventbus_registry)
