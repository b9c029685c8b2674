"""Argument checks shared by the ``eventbus`` subcommands.

A bad argument is a usage error: exit 2 with a message that names the argument. Numbers are
checked by argparse itself (``type=positive_int``: "argument --count: must be >= 1, got 0"),
before anything connects; values only the adapter can judge (channel names, type patterns) are
checked by :func:`naming`, which puts the argument's name in front of the error.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager

from eventbus._errors import ChannelNameError, ConfigurationError

__all__ = ["naming", "non_negative_float", "positive_float", "positive_int"]


def positive_int(text: str) -> int:
    """An integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"expected a finite number of seconds, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """Seconds > 0."""
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0 seconds, got {text}")
    return value


def non_negative_float(text: str) -> float:
    """Seconds >= 0."""
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0 seconds, got {text}")
    return value


@contextmanager
def naming(argument: str, value: str) -> Iterator[None]:
    """Turn a channel-name or configuration error raised for ``value`` into a usage error that
    names ``argument`` (``--to 'a b': channel name 'a b' is not valid for nats: ...``)."""
    try:
        yield
    except (ChannelNameError, ConfigurationError) as exc:
        raise ConfigurationError(f"{argument} {value!r}: {exc}") from None
