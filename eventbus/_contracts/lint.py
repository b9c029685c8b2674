"""``eventbus contracts lint``: the registry's structure and schemas, file by file.

Errors: unreadable files, malformed config, gaps in version numbers, schemas the registry
cannot compile (they break their meta-schema, use another dialect than draft-07 / 2020-12, have
a pattern that is not ECMA-262, a ``$ref`` that does not resolve, or nest too deeply), ``$id``
other than the version's ``dataschema``, examples of unknown versions, malformed consumer
files, deprecations naming unknown types or versions. Warnings: what works but should be fixed
(no ``$schema``, no ``$id``, no title or description, no examples, a passed sunset, type names
that are not reverse-DNS).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from eventbus._contracts.expectations import ConsumerExpectation
from eventbus._contracts.model import Finding
from eventbus._contracts.registry import DEFAULT_BASE_URI, REGISTRY_FILE, Contract, Registry
from eventbus._errors import RegistryError

__all__ = ["lint"]

_TYPE_NAME = re.compile(r"^[a-z0-9]+(\.[a-z0-9][a-z0-9-]*)+$")
_KNOWN_ENTRIES = {"contract.json", "examples", "consumers"}


def lint(registry: Registry) -> list[Finding]:
    """Every problem of a registry opened with ``strict=False``."""
    found = list(registry.problems)
    if registry.base_uri == DEFAULT_BASE_URI:
        found.append(
            Finding(
                str(registry.root / REGISTRY_FILE),
                "no-base-uri",
                f"no base_uri: dataschema URIs default to {DEFAULT_BASE_URI}<type>/vN.schema.json",
                "warning",
            )
        )
    for contract in registry.contracts:
        found += _lint_contract(registry, contract)
    return sorted(found, key=lambda f: (f.path, f.severity, f.code))


def _lint_contract(registry: Registry, contract: Contract) -> Iterator[Finding]:
    directory = str(contract.directory)
    if not _TYPE_NAME.match(contract.type):
        yield Finding(
            directory,
            "type-name",
            "event types should be lower-case reverse-DNS names (com.example.thing.happened)",
            "warning",
        )
    numbers = [v.version for v in contract.versions]
    missing = sorted(set(range(1, max(numbers) + 1)) - set(numbers))
    if missing:
        yield Finding(
            directory,
            "version-gap",
            f"versions must run v1..v{max(numbers)}: missing {', '.join(f'v{n}' for n in missing)}",
        )
    for entry in contract.directory.iterdir():
        if entry.name not in _KNOWN_ENTRIES and not entry.name.endswith(".schema.json"):
            yield Finding(
                str(entry), "stray-file", "not part of the registry layout (ignored)", "warning"
            )
    for sv in contract.versions:
        yield from _lint_schema(sv.path, sv.schema, sv.uri, sv.dialect)
    examples = {e.version for e in contract.examples if e.valid}
    for example in contract.examples:
        if example.version not in numbers:
            yield Finding(
                str(example.path), "example-version", f"v{example.version} does not exist"
            )
    for sv in contract.versions:
        if sv.version not in examples:
            yield Finding(
                str(sv.path),
                "no-examples",
                f"no valid example in examples/v{sv.version}/valid/",
                "warning",
            )
    for path in contract.consumer_paths:
        try:
            ConsumerExpectation.load(path, contract.type)
        except RegistryError as exc:
            yield Finding(str(path), "consumer-file", str(exc))
    yield from _lint_deprecations(registry, contract)


def _lint_schema(
    path: Any, schema: Mapping[str, Any], uri: str, dialect: str | None
) -> Iterator[Finding]:
    """Warnings and the $id rule; what makes a schema unusable (meta-schema, regexes, refs,
    dialect, depth) is found when the registry compiles it and listed in its problems."""
    where = str(path)
    if dialect is None:
        return
    if "$schema" not in schema:
        yield Finding(where, "no-$schema", f"no $schema: read as {dialect}", "warning")
    if "$id" not in schema:
        yield Finding(where, "no-$id", f"no $id: set it to the dataschema {uri}", "warning")
    elif schema["$id"] != uri:
        yield Finding(where, "id-mismatch", f"$id must be the dataschema {uri}", pointer="/$id")
    for keyword in ("title", "description"):
        if keyword not in schema:
            yield Finding(where, f"no-{keyword}", f"no {keyword}", "warning")


def _lint_deprecations(registry: Registry, contract: Contract) -> Iterator[Finding]:
    config = contract.directory / "contract.json"
    now = datetime.now(UTC)
    numbers = {v.version for v in contract.versions}
    for number in contract.config.version_deprecations:
        if number not in numbers:
            yield Finding(
                str(config),
                "deprecation-version",
                f"versions.{number}: no such version",
                pointer=f"/versions/{number}",
            )
    items = [("deprecated", contract.config.deprecated)]
    items += [
        (f"versions/{n}/deprecated", d) for n, d in contract.config.version_deprecations.items()
    ]
    for where, deprecation in items:
        if deprecation is None:
            continue
        if deprecation.replaced_by is not None and deprecation.replaced_by not in registry.types:
            yield Finding(
                str(config),
                "replaced-by",
                f"replaced_by {deprecation.replaced_by!r} is not in the registry",
                pointer=f"/{where}/replaced_by",
            )
        if deprecation.sunset is not None and deprecation.sunset < now:
            yield Finding(
                str(config),
                "sunset-passed",
                f"the sunset ({deprecation.sunset.date()}) has passed: remove the type or extend it",
                "warning",
                pointer=f"/{where}/sunset",
            )
