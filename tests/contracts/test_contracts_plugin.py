"""The pytest plugin (entry point pytest11 ``eventbus``), run in inner sessions with pytester."""

from __future__ import annotations

import shutil
from importlib.metadata import entry_points
from pathlib import Path

import pytest

SHIPPED = Path(__file__).resolve().parents[2] / "contracts"
INI = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    shutil.copytree(SHIPPED, pytester.path / "contracts")
    pytester.makeini(INI)
    return pytester


def test_the_plugin_is_registered_as_a_pytest11_entry_point() -> None:
    plugins = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert plugins.get("eventbus") == "eventbus.testing.plugin"


def test_bus_fixture_validates_and_captures_published_events(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_orders="""
        import pytest
        from eventbus import Event, SchemaValidationError

        ORDER = "com.example.shop.order.placed"
        GOOD = {"order_id": "o-1", "customer": "ada", "amount_cents": 4200}

        async def test_publish_is_captured(eventbus_bus, eventbus_published, eventbus_registry):
            async with eventbus_bus as bus:
                await bus.publish(Event(type=ORDER, source="/t", subject="o-1", data=GOOD))
            event = eventbus_published.assert_published(ORDER, where={"order_id": "o-1"}, count=1)
            assert event.dataschema == eventbus_registry.dataschema(ORDER, 3)
            eventbus_published.assert_published(ORDER, subject="o-1")
            eventbus_published.assert_published(ORDER, where=lambda e: e.data["amount_cents"] > 0)
            eventbus_published.assert_not_published(ORDER, where={"order_id": "o-2"})

        async def test_invalid_events_are_refused(eventbus_bus, eventbus_published):
            async with eventbus_bus as bus:
                with pytest.raises(SchemaValidationError) as info:
                    await bus.publish(Event(type=ORDER, source="/t", data={**GOOD, "amount_cents": -1}))
            assert info.value.pointers == ("/amount_cents",)
            assert len(eventbus_published) == 0

        async def test_consumers_get_validated_events(eventbus_bus, eventbus_published):
            got = []
            async with eventbus_bus as bus:
                await bus.subscribe(ORDER, got.append)
                await bus.publish(Event(type=ORDER, source="/t", data=GOOD))
                await eventbus_published.wait_for(ORDER)
                for _ in range(100):
                    if got:
                        break
                    import asyncio
                    await asyncio.sleep(0.01)
            assert got[0].data == GOOD

        def test_assertion_messages_explain(eventbus_published):
            eventbus_published.assert_published(ORDER, where={"order_id": "o-9"})
        """
    )
    result = project.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(["*expected a published com.example.shop.order.placed where*o-9*"])
    result.stdout.fnmatch_lines(["*published types: nothing was published*"])


def test_assert_published_names_the_mismatch(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_mismatch="""
        from eventbus import Event

        async def test_mismatch(eventbus_bus, eventbus_published):
            async with eventbus_bus as bus:
                await bus.publish(Event(type="com.example.shop.payment.captured", source="/t",
                                        data={"order_id": "o-1", "amount_cents": 5}))
            eventbus_published.assert_published(
                "com.example.shop.payment.captured", where={"order_id": "o-1", "amount_cents": 6}
            )
        """
    )
    result = project.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*[[]0[]] id=*: /amount_cents: 5 != 6*"])


def test_consumer_driven_contracts(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_consumer="""
        import msgspec
        import pytest

        ORDER = "com.example.shop.order.placed"
        FILE = "contracts/com.example.shop.order.placed/consumers/payments.json"

        class OrderPlaced(msgspec.Struct):
            order_id: str
            customer: str
            amount_cents: int
            currency: str = "EUR"

        class Greedy(msgspec.Struct):
            order_id: str
            coupon: str

        def test_declared_expectation_holds(eventbus_contracts):
            eventbus_contracts.verify_consumer(FILE)

        def test_handler_type_matches_the_file(eventbus_contracts):
            derived = eventbus_contracts.verify_handler("payments", ORDER, OrderPlaced, declared=FILE)
            assert {f.pointer for f in derived.fields} == {
                "/order_id", "/customer", "/amount_cents", "/currency"}

        def test_handler_reading_an_undeclared_field_fails(eventbus_contracts):
            eventbus_contracts.verify_handler("payments", ORDER, Greedy, declared=FILE)

        def test_data_assertions(eventbus_contracts):
            eventbus_contracts.assert_valid(ORDER, {"order_id": "o-1", "customer": "a", "amount_cents": 1})
            eventbus_contracts.assert_invalid(ORDER, {"order_id": "x"}, "/order_id", "/customer")
        """
    )
    result = project.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(["*payments on com.example.shop.order.placed:*", "*v1 /coupon: *"])


def test_registry_location_option_and_missing_registry(pytester: pytest.Pytester) -> None:
    shutil.copytree(SHIPPED, pytester.path / "elsewhere")
    pytester.makeini(INI)
    pytester.makepyfile(
        test_where="""
        def test_types(eventbus_registry):
            assert "com.example.shop.order.placed" in eventbus_registry.types
        """
    )
    pytester.runpytest(
        "-p", "no:cacheprovider", "--eventbus-contracts", "elsewhere"
    ).assert_outcomes(passed=1)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*no contract registry at *contracts; pass --eventbus-contracts PATH*"]
    )
