"""Fetch what the contract tests need from package registries into tests/_build/ (gitignored).

- the official JSON-Schema-Test-Suite, from the sdist of the installed jsonschema on PyPI
  (it carries the suite under ``json/``): ``pip download --no-binary :all: --no-deps``;
- the official AsyncAPI parser, ``@asyncapi/parser``, from npm;
- the official AsyncAPI CLI and HTML template (``@asyncapi/cli``, ``@asyncapi/html-template``)
  from npm, with ``PUPPETEER_SKIP_DOWNLOAD`` set: only the template's PDF output needs the
  browser puppeteer would download, and nothing outside the package registries is reachable.

Both are fetched once and reused. ``python tests/_fetch.py`` fetches both (scripts/test.sh runs
it before pytest); the fixtures call the same functions when something is missing.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

BUILD = Path(__file__).resolve().parent / "_build"
ASYNCAPI_PARSER = "@asyncapi/parser@3"
ASYNCAPI_HTML = ("@asyncapi/cli@6", "@asyncapi/html-template@3")


def json_schema_test_suite() -> Path:
    """The suite's root (with ``tests/`` and ``remotes/``) for the installed jsonschema."""
    version = importlib.metadata.version("jsonschema")
    target = BUILD / f"json-schema-test-suite-{version}"
    if (target / "tests" / "draft2020-12").is_dir():
        return target
    BUILD.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=BUILD) as tmp:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-binary",
                ":all:",
                "--no-deps",
                f"jsonschema=={version}",
                "--dest",
                tmp,
            ],
            check=True,
        )
        (sdist,) = Path(tmp).glob("jsonschema-*.tar.gz")
        prefix = f"jsonschema-{version}/json/"
        unpacked = Path(tmp) / "unpacked"
        with tarfile.open(sdist) as tar:
            members = [m for m in tar.getmembers() if m.name.startswith(prefix)]
            tar.extractall(unpacked, members=members, filter="data")
        shutil.move(str(unpacked / prefix), target)
    return target


def asyncapi_parser() -> Path:
    """The ``node_modules`` directory holding ``@asyncapi/parser``."""
    prefix = BUILD / "npm"
    modules = prefix / "node_modules"
    if (modules / "@asyncapi" / "parser" / "package.json").is_file():
        return modules
    prefix.mkdir(parents=True, exist_ok=True)
    npm = ["npm", "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "--silent"]
    subprocess.run([*npm, "--no-save", ASYNCAPI_PARSER], check=True)
    return modules


def asyncapi_html_tools() -> Path:
    """The ``node_modules`` directory holding ``@asyncapi/cli`` and ``@asyncapi/html-template``."""
    prefix = BUILD / "npm-html"
    modules = prefix / "node_modules"
    if (modules / "@asyncapi" / "html-template" / "package.json").is_file() and (
        modules / ".bin" / "asyncapi"
    ).exists():
        return modules
    prefix.mkdir(parents=True, exist_ok=True)
    npm = ["npm", "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "--silent"]
    env = {**os.environ, "PUPPETEER_SKIP_DOWNLOAD": "1"}
    subprocess.run([*npm, "--no-save", *ASYNCAPI_HTML], check=True, env=env)
    return modules


if __name__ == "__main__":
    print(f"JSON-Schema-Test-Suite: {json_schema_test_suite()}")
    print(f"@asyncapi/parser: {asyncapi_parser()}")
    print(f"@asyncapi/cli and html-template: {asyncapi_html_tools()}")
