"""The README's example passes ``mypy --strict`` as written, and runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from mypy import api as mypy_api

README = Path(__file__).resolve().parents[1] / "README.md"


def example() -> str:
    text = README.read_text()
    section = text.split("## Example", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None, "README has no python block under '## Example'"
    return match.group(1)


def test_the_readme_example_passes_mypy_strict(tmp_path: Path) -> None:
    source = tmp_path / "readme_example.py"
    source.write_text(example())
    out, err, status = mypy_api.run(
        ["--strict", "--no-incremental", "--cache-dir", str(tmp_path / "cache"), str(source)]
    )
    assert status == 0, out + err


def test_the_readme_example_runs(tmp_path: Path) -> None:
    source = tmp_path / "readme_example.py"
    source.write_text(example())
    out = subprocess.run(
        [sys.executable, str(source)], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip() == "billing o-1 42"
