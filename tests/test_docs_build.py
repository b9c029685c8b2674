"""The documentation site (mkdocs-material, API reference by mkdocstrings) builds with
``--strict``: a broken link, a missing page in the nav or an unresolvable reference fails."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


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
    reference = (site / "reference" / "index.html").read_text()
    for name in ("EventBus", "HandlerGroup", "SubscribeOptions", "RetryPolicy", "drain_timeout"):
        assert name in reference, name
    assert (site / "running" / "index.html").exists()
