"""Build the interop suite's helper programs from their registries into ``tests/_build/interop``.

- Go: ``tests/interop/go`` (go.mod pins cloudevents/sdk-go v2 and its protocol modules, IBM/sarama
  for Kafka), built with ``go build`` (modules from the Go module proxy);
- JavaScript: ``tests/interop/js`` (package.json pins the ``cloudevents`` package and kafkajs),
  installed with ``npm ci`` into a copy of the folder;
- Java: ``tests/interop/java`` (pom.xml pins io.cloudevents and kafka-clients), built with
  ``mvn package`` (Maven Central) into a copy of the folder.

Each build is keyed by a hash of its sources and done once; ``python tests/interop/builds.py``
builds all three (scripts/test.sh runs it before pytest), the fixtures call the same functions
when something is missing. Nothing is downloaded but registry packages.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
BUILD = HERE.parent / "_build" / "interop"
_GO_HOMES = ("/usr/local/go/bin/go", "/usr/lib/go/bin/go")


class BuildError(RuntimeError):
    """A toolchain is missing or a build failed."""


def _digest(folder: Path, names: tuple[str, ...]) -> str:
    h = hashlib.sha256()
    for path in sorted(p for n in names for p in folder.glob(n) if p.is_file()):
        h.update(str(path.relative_to(folder)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _tool(name: str, *fallbacks: str) -> str:
    found = shutil.which(name) or next((f for f in fallbacks if os.access(f, os.X_OK)), None)
    if found is None:
        raise BuildError(f"{name} is not installed (scripts/test.sh installs it)")
    return found


def _run(args: list[str], cwd: Path, what: str) -> None:
    result = subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, timeout=1200, check=False
    )
    if result.returncode != 0:
        raise BuildError(f"{what} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")


def go_helper() -> Path:
    """The built Go helper binary."""
    source = HERE / "go"
    target = BUILD / f"go-{_digest(source, ('go.mod', 'go.sum', '*.go'))}" / "interop-go"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"interop-go.{os.getpid()}.tmp")
    go = _tool("go", *_GO_HOMES)
    _run([go, "build", "-buildvcs=false", "-o", str(partial), "."], source, "go build")
    partial.replace(target)
    return target


def _copy(source: Path, names: tuple[str, ...], prefix: str) -> tuple[Path, bool]:
    target = BUILD / f"{prefix}-{_digest(source, names)}"
    done = target / ".built"
    if done.exists():
        return target, True
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("node_modules", "target"))
    return target, False


def js_helper() -> Path:
    """The folder holding ``helper.js`` with ``node_modules`` installed."""
    target, built = _copy(HERE / "js", ("package.json", "package-lock.json", "*.js"), "js")
    if not built:
        npm = _tool("npm")
        _run([npm, "ci", "--no-audit", "--no-fund", "--silent"], target, "npm ci")
        (target / ".built").touch()
    return target


def java_helper() -> Path:
    """The Maven project folder with ``target/classes`` and ``target/lib`` built."""
    target, built = _copy(HERE / "java", ("pom.xml", "src/**/*.java"), "java")
    if not built:
        mvn = _tool("mvn")
        _run([mvn, "-q", "-B", "package", "-DskipTests"], target, "mvn package")
        (target / ".built").touch()
    return target


if __name__ == "__main__":
    print(f"Go helper: {go_helper()}")
    print(f"JavaScript helper: {js_helper()}")
    print(f"Java helper: {java_helper()}")
