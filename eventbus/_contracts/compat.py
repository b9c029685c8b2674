"""Compatibility checks with Confluent Schema Registry's semantics.

- BACKWARD: the new schema reads data written with the previous one: ``diff(old, new)`` has only
  compatible kinds. FORWARD: the previous schema reads data written with the new one:
  ``diff(new, old)``. FULL: both. ``*_TRANSITIVE``: against every earlier version, not just the
  latest. NONE: nothing is checked.
- STRICT (default) or LENIENT decides which kinds are compatible (see :mod:`.kinds`).

:func:`compare` reports each change once, with its kind, the direction that kind reads it
(``direction``: ``old->new``, or ``new->old`` for a change only visible that way), its JSON
pointer in the schema and the directions it breaks; ``old_to_new`` and ``new_to_old`` give the
kind each way (None where a reading has none).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from eventbus._contracts.diff import diff
from eventbus._contracts.kinds import Kind, compatible_kinds
from eventbus._contracts.model import CompatibilityMode, CompatibilityPolicy, Direction

__all__ = ["Change", "CompatibilityResult", "check_compatibility", "check_history", "compare"]


@dataclass(frozen=True)
class Change:
    """One change between two schemas.

    ``kind`` (Confluent's Difference.Type) reads the change from the old schema to the new; for
    a change only visible the other way round it is that kind and ``reverse_kind`` is None.
    ``pointer`` is the JSON pointer of the changed keyword in the schema. ``breaks`` lists the
    directions this change makes incompatible under the policy used.
    """

    kind: Kind
    pointer: str
    breaks: frozenset[Direction]
    reverse_kind: Kind | None = None
    direction: str = "old->new"  # how ``kind`` reads the change: "old->new" or "new->old"

    @property
    def old_to_new(self) -> Kind | None:
        """The kind read old -> new (what BACKWARD checks), None when only the other way."""
        return self.kind if self.direction == "old->new" else None

    @property
    def new_to_old(self) -> Kind | None:
        """The kind read new -> old (what FORWARD checks), None when only the other way."""
        return self.kind if self.direction == "new->old" else self.reverse_kind

    def to_json(self) -> dict[str, Any]:
        old_to_new, new_to_old = self.old_to_new, self.new_to_old
        return {
            "kind": self.kind.value,
            "direction": self.direction,
            "pointer": self.pointer,
            "breaks": sorted(d.value for d in self.breaks),
            "old_to_new": old_to_new.value if old_to_new else None,
            "new_to_old": new_to_old.value if new_to_old else None,
        }

    def __str__(self) -> str:
        breaks = "+".join(sorted(d.value for d in self.breaks)) or "compatible"
        if self.direction == "new->old":
            return f"{breaks:<17} #{self.pointer:<40} {self.kind.value} (read new->old only)"
        reverse = f" (read new->old: {self.reverse_kind.value})" if self.reverse_kind else ""
        return f"{breaks:<17} #{self.pointer:<40} {self.kind.value}{reverse}"


@dataclass(frozen=True)
class CompatibilityResult:
    """The changes from ``old`` to ``new`` and whether ``mode`` accepts them."""

    mode: CompatibilityMode
    policy: CompatibilityPolicy
    changes: tuple[Change, ...]
    old: str = "old"
    new: str = "new"

    @property
    def broken(self) -> frozenset[Direction]:
        """The directions some change breaks (whatever the mode)."""
        return frozenset(d for c in self.changes for d in c.breaks)

    @property
    def compatible(self) -> bool:
        """True when every direction the mode requires holds."""
        return not (self.mode.directions & self.broken)

    def violations(self) -> tuple[Change, ...]:
        """The changes that break a direction the mode requires."""
        return tuple(c for c in self.changes if c.breaks & self.mode.directions)

    def to_json(self) -> dict[str, Any]:
        return {
            "old": self.old,
            "new": self.new,
            "mode": self.mode.value,
            "policy": self.policy.value,
            "compatible": self.compatible,
            "breaks": sorted(d.value for d in self.broken),
            "changes": [c.to_json() for c in self.changes],
        }


def compare(
    old: Any,
    new: Any,
    policy: CompatibilityPolicy = CompatibilityPolicy.STRICT,
    *,
    external: Callable[[str], Any] | None = None,
) -> tuple[Change, ...]:
    """Every change from ``old`` to ``new``, each with the directions it breaks."""
    ok = compatible_kinds(policy)
    backward = diff(old, new, policy, external=external)
    forward = diff(new, old, policy, external=external)
    by_pointer: dict[str, list[Kind]] = {}
    for d in forward:
        by_pointer.setdefault(d.pointer, []).append(d.kind)
    seen: set[str] = set()
    changes: list[Change] = []
    unpaired = {p: list(kinds) for p, kinds in by_pointer.items()}
    for d in backward:
        reverse = by_pointer.get(d.pointer, [])
        seen.add(d.pointer)
        breaks: set[Direction] = set()
        if d.kind not in ok:
            breaks.add(Direction.BACKWARD)
        if any(k not in ok for k in reverse):
            breaks.add(Direction.FORWARD)
        queue = unpaired.get(d.pointer)
        paired = queue.pop(0) if queue else (reverse[-1] if reverse else None)
        changes.append(Change(d.kind, d.pointer, frozenset(breaks), paired))
    for d in forward:
        if d.pointer not in seen:
            only_forward = frozenset() if d.kind in ok else frozenset({Direction.FORWARD})
            changes.append(Change(d.kind, d.pointer, only_forward, direction="new->old"))
    return tuple(changes)


def check_compatibility(
    old: Any,
    new: Any,
    mode: CompatibilityMode | str = CompatibilityMode.BACKWARD,
    policy: CompatibilityPolicy | str = CompatibilityPolicy.STRICT,
    *,
    external: Callable[[str], Any] | None = None,
) -> CompatibilityResult:
    """Is ``new`` (a JSON Schema) compatible with ``old`` under ``mode`` and ``policy``?"""
    mode = CompatibilityMode(str(getattr(mode, "value", mode)).upper())
    policy = CompatibilityPolicy(str(getattr(policy, "value", policy)).upper())
    return CompatibilityResult(mode, policy, compare(old, new, policy, external=external))


def check_history(
    versions: Sequence[tuple[str, Any]],
    mode: CompatibilityMode,
    policy: CompatibilityPolicy = CompatibilityPolicy.STRICT,
    *,
    external: Callable[[str], Any] | None = None,
) -> list[CompatibilityResult]:
    """Check each version against the one before it (or every earlier one when transitive),
    as a registry does when the version is added. ``versions`` are ``(name, schema)`` pairs,
    oldest first. Returns the incompatible pairs (empty when the history follows ``mode``)."""
    failures: list[CompatibilityResult] = []
    if mode is CompatibilityMode.NONE:
        return failures
    for index in range(1, len(versions)):
        name, schema = versions[index]
        earlier = versions[:index] if mode.transitive else versions[index - 1 : index]
        for old_name, old_schema in reversed(earlier):
            result = CompatibilityResult(
                mode, policy, compare(old_schema, schema, policy, external=external), old_name, name
            )
            if not result.compatible:
                failures.append(result)
    return failures
