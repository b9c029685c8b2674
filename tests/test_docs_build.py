"""The documentation site (mkdocs-material, API reference by mkdocstrings) builds with
``--strict``: a broken link, a missing page in the nav or an unresolvable reference fails.
Every public name of ``eventbus``, ``eventbus.adapter`` and ``eventbus.testing`` has a
docstring and an entry in the generated reference, and the options and fields users look up
(``EventBus()`` and ``subscribe()`` options with defaults, ``RetryPolicy`` and
``Subscription.stats`` fields, the ``DeadLetterQueue`` knobs) are documented one by one."""

from __future__ import annotations

import importlib
import inspect
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import griffe
import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULES = ("eventbus", "eventbus.adapter", "eventbus.testing")
PAGES = {
    "eventbus": "reference",
    "eventbus.adapter": "reference-adapter",
    "eventbus.testing": "reference-testing",
}


@pytest.fixture(scope="module")
def package() -> griffe.Module:
    loader = griffe.GriffeLoader(docstring_parser=griffe.Parser.sphinx)
    module = loader.load("eventbus")
    loader.resolve_aliases(implicit=False, external=False)
    assert isinstance(module, griffe.Module)
    return module


def _public(module: str) -> list[str]:
    return list(importlib.import_module(module).__all__)


def _member(package: griffe.Module, dotted: str) -> Any:
    path = dotted.removeprefix("eventbus").lstrip(".")
    found = package[path]
    return found.final_target if found.is_alias else found


def test_every_public_name_has_a_docstring(package: griffe.Module) -> None:
    missing = [
        f"{module}.{name}"
        for module in MODULES
        for name in _public(module)
        if not _member(package, f"{module}.{name}").docstring
    ]
    assert missing == []


@pytest.mark.parametrize(
    ("owner", "members"),
    [
        ("RetryPolicy", ["max_attempts", "initial_delay", "max_delay", "multiplier", "jitter"]),
        ("SubscriptionStats", None),  # every field
        ("SubscribeOptions", None),
        ("Subscription", None),
        ("SyncEventBus", None),
        ("EventBus", None),
        ("DeadLetterQueue", None),
        ("ReplayResult", None),
    ],
)
def test_members_users_look_up_are_documented(
    package: griffe.Module, owner: str, members: list[str] | None
) -> None:
    target = _member(package, f"eventbus.{owner}")
    names = members or [n for n in target.members if not n.startswith("_")]
    assert names
    assert [n for n in names if not target.members[n].docstring] == []


@pytest.mark.parametrize(
    ("owner", "callable_"),
    [("EventBus", "EventBus.__init__"), ("DeadLetterQueue", "DeadLetterQueue.__init__")],
)
def test_every_constructor_option_is_documented_with_its_default(
    package: griffe.Module, owner: str, callable_: str
) -> None:
    import eventbus

    target = _member(package, f"eventbus.{owner}")
    documented = {
        p.name: p.description
        for section in target.docstring.parse(griffe.Parser.sphinx)
        if section.kind is griffe.DocstringSectionKind.parameters
        for p in section.value
    }
    parameters = inspect.signature(getattr(eventbus, owner)).parameters
    assert set(parameters) <= set(documented)
    for name, parameter in parameters.items():
        if parameter.default is not inspect.Parameter.empty:
            assert "(default" in documented[name], name  # "(default 64)", "(default None: ..."


def test_mkdocs_build_strict(tmp_path: Path) -> None:
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    html = {m: (site / page / "index.html").read_text() for m, page in PAGES.items()}
    core = set(_public("eventbus"))
    missing = []
    for module in MODULES:
        for name in _public(module):
            # A name eventbus.adapter shares with eventbus is documented (and linked) there.
            where = "eventbus" if module != "eventbus" and name in core else module
            if f'id="{where}.{name}"' not in html[where]:
                missing.append(f"{module}.{name}")
    assert missing == []
    reference = html["eventbus"]
    for text in ("drain_timeout", "max_attempts", "dead_lettered", "scan_limit", "eventbus-loop"):
        assert text in reference, text
    for page in ("running", "sync", "writing-adapters"):
        assert (site / page / "index.html").exists(), page
