"""subscribe() and EventBus() options: typed for mypy, and checked at run time with a
ConfigurationError naming the option and what it accepts."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from mypy import api as mypy_api

from eventbus import ConfigurationError, Event, EventBus, HandlerGroup, RetryPolicy


async def handler(event: Event[Any]) -> None:
    pass


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"grup": "billing"}, "unknown option 'grup'; the options are ack_wait, channel"),
        ({"retry": 5}, "option retry=5 is invalid; it accepts a RetryPolicy or None"),
        ({"max_in_flight": 0}, "option max_in_flight=0 is invalid; it accepts an int >= 1"),
        ({"max_in_flight": True}, "option max_in_flight=True is invalid"),
        ({"group": ""}, "option group='' is invalid; it accepts a non-empty str or None"),
        ({"ack_wait": -1}, "option ack_wait=-1 is invalid; it accepts a number of seconds > 0"),
        ({"ordered": "yes"}, "option ordered='yes' is invalid; it accepts True or False"),
        ({"dead_letter_channel": True}, "option dead_letter_channel=True is invalid"),
        ({"middleware": [object()]}, "option middleware=[<object object"),
        ({"data_type": "Order"}, "option data_type='Order' is invalid; it accepts a type"),
    ],
)
def test_a_wrong_subscribe_option_names_itself(options: dict[str, Any], message: str) -> None:
    bus = EventBus("memory://")
    with pytest.raises(ConfigurationError, match=r"^subscribe\('orders\.created'\): ") as err:
        bus.subscribe("orders.created", handler, **options)
    assert message in str(err.value)
    with pytest.raises(ConfigurationError) as group_err:
        HandlerGroup().subscribe("orders.created", handler, **options)
    assert message in str(group_err.value)
    assert bus.subscriptions == ()


def test_good_subscribe_options_pass() -> None:
    bus = EventBus("memory://")
    sub = bus.subscribe(
        "orders.created",
        handler,
        group="billing",
        retry=RetryPolicy(max_attempts=2),
        max_in_flight=3,
        dead_letter_channel=False,
        ack_wait=5,
        ordered=False,
        middleware=(),
        data_type=dict,
    )
    assert (sub.group, sub.spec.max_in_flight, sub.dead_letter_channel) == ("billing", 3, None)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_in_flight": 0}, "EventBus(): option max_in_flight=0 is invalid; it accepts an int"),
        ({"drain_timeout": "30"}, "option drain_timeout='30' is invalid; it accepts a number"),
        ({"retry": 3}, "option retry=3 is invalid; it accepts a RetryPolicy or None"),
        ({"middleware": "logging"}, "option middleware='logging' is invalid"),
        ({"content_mode": "xml"}, "option content_mode='xml' is invalid"),
    ],
)
def test_a_wrong_bus_option_names_itself(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError) as err:
        EventBus("memory://", **options)
    assert message in str(err.value)


def test_mypy_catches_misspelled_and_mistyped_options(tmp_path: Path) -> None:
    source = tmp_path / "service.py"
    source.write_text(
        textwrap.dedent(
            """
            from typing import Any
            from eventbus import Event, EventBus, HandlerGroup

            async def handle(event: Event[Any]) -> None: ...

            bus = EventBus("memory://", max_in_flght=3)
            bus.subscribe("orders.created", handle, grup="billing")
            bus.subscribe("orders.created", handle, retry=5)
            HandlerGroup().subscribe("orders.paid", handle, ack_wait="soon")
            bus.subscribe("orders.created", handle, group="billing", max_in_flight=2)
            """
        )
    )
    out, _, status = mypy_api.run(
        ["--strict", "--no-incremental", "--cache-dir", str(tmp_path / "cache"), str(source)]
    )
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert status == 1
    by_line: dict[str, str] = {}
    for line in errors:
        by_line[line.split(":")[1]] = by_line.get(line.split(":")[1], "") + line
    assert sorted(by_line, key=int) == ["7", "8", "9", "10"], out  # line 11 is right
    assert 'Unexpected keyword argument "max_in_flght"' in by_line["7"]
    assert 'Unexpected keyword argument "grup"' in by_line["8"]
    assert 'matches argument types "str", "Callable' in by_line["9"]
    assert '"int"' in by_line["9"]  # retry=5
    assert '"str"' in by_line["10"]  # ack_wait="soon"
