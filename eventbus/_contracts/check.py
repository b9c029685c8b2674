"""``eventbus contracts check``: the CI gate.

1. lint (errors fail the check, warnings are shown);
2. each type's versions follow its compatibility mode and policy, as a registry would have
   checked them when each version was added (transitive modes against every earlier version);
3. every example validates (valid ones) or fails (invalid ones) against its version;
4. every consumer expectation holds for every version from its ``since_version``;
5. with a base (``--against`` a directory or a git ref): published versions are unchanged,
   no version disappeared, a type disappeared only after it was deprecated and its sunset
   passed, and the compatibility mode was not relaxed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from eventbus._contracts.compat import check_history, compare
from eventbus._contracts.expectations import ConsumerExpectation, unmet
from eventbus._contracts.jsonvalue import canonical
from eventbus._contracts.lint import lint
from eventbus._contracts.model import CompatibilityMode, Deprecation, Finding
from eventbus._contracts.registry import Contract, Registry
from eventbus._errors import InvalidSchemaError, RegistryError

__all__ = ["check"]

_STRENGTH = {
    CompatibilityMode.NONE: 0,
    CompatibilityMode.BACKWARD: 1,
    CompatibilityMode.FORWARD: 1,
    CompatibilityMode.FULL: 2,
    CompatibilityMode.BACKWARD_TRANSITIVE: 2,
    CompatibilityMode.FORWARD_TRANSITIVE: 2,
    CompatibilityMode.FULL_TRANSITIVE: 3,
}


def check(registry: Registry, base: Registry | None = None) -> list[Finding]:
    """Every finding for ``registry`` (opened with ``strict=False``), optionally against ``base``."""
    found = lint(registry)
    for contract in registry.contracts:
        found += _history(registry, contract, base)
        found += _examples(registry, contract)
        found += _consumers(contract)
    if base is not None:
        found += _against(registry, base)
    return found


def _external(registry: Registry) -> Any:
    def resolve(uri: str) -> Any:
        found = registry.by_uri(uri.split("#", 1)[0])
        return None if found is None else found.schema

    return resolve


def _history(registry: Registry, contract: Contract, base: Registry | None) -> Iterator[Finding]:
    config = contract.config
    usable = [v for v in contract.versions if registry.broken(v.type, v.version) is None]
    versions = [(f"v{v.version}", v.schema) for v in usable]  # broken ones: lint reports them
    paths = {f"v{v.version}": v.path for v in contract.versions}
    base_contract = base.get(contract.type) if base is not None else None
    published = {f"v{v.version}" for v in base_contract.versions} if base_contract else set()
    for result in check_history(
        versions, config.compatibility, config.policy, external=_external(registry)
    ):
        changes = "; ".join(
            f"{c.kind.value} at #{c.pointer} (breaks {'+'.join(sorted(d.value for d in c.breaks))})"
            for c in result.violations()
        )
        new = " (new since the base)" if base is not None and result.new not in published else ""
        yield Finding(
            str(paths[result.new]),
            "incompatible",
            f"{result.new}{new} is not {config.compatibility.value} compatible with {result.old} "
            f"under {config.policy.value}: {changes}",
        )


def _examples(registry: Registry, contract: Contract) -> Iterator[Finding]:
    numbers = {v.version for v in contract.versions}
    for example in contract.examples:
        if example.version not in numbers or registry.broken(contract.type, example.version):
            continue  # lint reports it
        violations = registry.violations(contract.type, example.data, example.version)
        if example.valid and violations:
            listed = "; ".join(str(v) for v in violations)
            yield Finding(
                str(example.path),
                "example-invalid",
                f"v{example.version} rejects this valid example: {listed}",
            )
        elif not example.valid and not violations:
            yield Finding(
                str(example.path),
                "example-accepted",
                f"v{example.version} accepts this invalid example",
            )


def _consumers(contract: Contract) -> Iterator[Finding]:
    for path in contract.consumer_paths:
        try:
            expectation = ConsumerExpectation.load(path, contract.type)
        except RegistryError:
            continue  # lint reports it
        for sv in contract.versions:
            if sv.version < expectation.since_version:
                continue
            for pointer, problem in unmet(sv.schema, expectation):
                yield Finding(
                    str(path),
                    "consumer-unmet",
                    f"{expectation.consumer} reads {pointer}, but v{sv.version}: {problem}",
                    pointer=f"/reads/{pointer.replace('~', '~0').replace('/', '~1')}",
                )


def _against(registry: Registry, base: Registry) -> Iterator[Finding]:
    for old in base.contracts:
        current = registry.get(old.type)
        if current is None:
            problem = _removal_problem(old.config.deprecated)
            if problem is not None:
                yield Finding(
                    str(registry.root / old.type),
                    "type-removed",
                    f"{old.type} exists in the base but was removed; {problem}",
                )
            continue
        if _STRENGTH[current.config.compatibility] < _STRENGTH[old.config.compatibility]:
            yield Finding(
                str(current.directory / "contract.json"),
                "mode-relaxed",
                f"compatibility relaxed from {old.config.compatibility.value} to {current.config.compatibility.value}",
                "warning",
            )
        for sv in old.versions:
            try:
                now = current.version(sv.version)
            except LookupError:
                yield Finding(
                    str(current.directory / sv.path.name),
                    "version-removed",
                    f"v{sv.version} was published (in the base) and is gone",
                )
                continue
            if canonical(_without_annotations(sv.schema)) != canonical(
                _without_annotations(now.schema)
            ):
                try:
                    changes = [c for c in compare(sv.schema, now.schema) if c.breaks]
                except InvalidSchemaError:  # a $ref that does not resolve: lint reports it
                    changes = []
                detail = (
                    "; ".join(f"{c.kind.value} at #{c.pointer}" for c in changes)
                    or "validation keywords changed"
                )
                yield Finding(
                    str(now.path),
                    "published-changed",
                    f"v{sv.version} was published and must not change; add v{current.latest.version + 1} instead ({detail})",
                )


def _removal_problem(deprecation: Deprecation | None, now: datetime | None = None) -> str | None:
    """Why a type may not be removed yet (None when it may): the rule is that a type is removed
    only after it was deprecated and its sunset has passed."""
    if deprecation is None:
        return "deprecate it first, with a sunset, and remove it after the sunset"
    if deprecation.sunset is None:
        return "its deprecation has no sunset: set one, and remove it after that date"
    if deprecation.sunset > (now or datetime.now(UTC)):
        return f"its sunset ({deprecation.sunset.date().isoformat()}) has not passed"
    return None


def _without_annotations(schema: Any) -> Any:
    """Descriptions and titles may be fixed in place; anything else makes a new version."""
    if isinstance(schema, dict):
        return {
            k: _without_annotations(v)
            for k, v in schema.items()
            if not (k in ("description", "title", "$comment") and isinstance(v, str))
        }
    if isinstance(schema, list):
        return [_without_annotations(v) for v in schema]
    return schema
