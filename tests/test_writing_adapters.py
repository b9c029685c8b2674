"""The "Write an adapter" guide works as written: its adapter's code block becomes a module,
registered as a plugin the way its entry point would be, and its conformance test class runs
here on it (pytest collects the class the guide's block defines)."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

from eventbus._adapter._plugins import adapter_infos, plugin_manager

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "writing-adapters.md"
_BLOCKS = dict(re.findall(r'```python title="([\w.]+)"\n(.*?)```', GUIDE.read_text(), re.S))


def _load_toy() -> types.ModuleType:
    module = types.ModuleType("eventbus_toy")
    sys.modules["eventbus_toy"] = module
    exec(compile(_BLOCKS["eventbus_toy.py"], str(GUIDE), "exec"), module.__dict__)
    if not plugin_manager().is_registered(module):
        plugin_manager().register(module, name="eventbus-toy")
    return module


TOY = _load_toy()
exec(compile(_BLOCKS["test_toy_conformance.py"], str(GUIDE), "exec"), globals())


def test_the_guide_registers_its_scheme() -> None:
    info = adapter_infos()["toy"]
    assert info.distribution == "eventbus-toy"
    assert info.factory("toy://x").name == "toy"
    assert "TestToyConformance" in globals()
