"""The registry's vocabulary: compatibility modes and policies, deprecation, per-type config,
and :class:`Finding` (one problem a lint or check reports)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from eventbus._errors import RegistryError
from eventbus._wire._types import is_absolute_uri

__all__ = [
    "CompatibilityMode",
    "CompatibilityPolicy",
    "ContractConfig",
    "Deprecation",
    "Direction",
    "Finding",
    "parse_config",
]


class Direction(enum.Enum):
    """Which readers a change breaks: BACKWARD = the new schema cannot read old data;
    FORWARD = the old schema cannot read new data."""

    BACKWARD = "BACKWARD"
    FORWARD = "FORWARD"


class CompatibilityMode(enum.Enum):
    """Confluent Schema Registry's compatibility levels."""

    NONE = "NONE"
    BACKWARD = "BACKWARD"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD = "FORWARD"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL = "FULL"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"

    @property
    def directions(self) -> frozenset[Direction]:
        """The directions this mode requires to hold."""
        name = self.value
        if name.startswith("FULL"):
            return frozenset(Direction)
        if name.startswith("BACKWARD"):
            return frozenset({Direction.BACKWARD})
        if name.startswith("FORWARD"):
            return frozenset({Direction.FORWARD})
        return frozenset()

    @property
    def transitive(self) -> bool:
        """Checked against every earlier version, not just the latest."""
        return self.value.endswith("_TRANSITIVE")


class CompatibilityPolicy(enum.Enum):
    """STRICT (Confluent's default) or LENIENT (``compatibilityPolicy: LENIENT``)."""

    STRICT = "STRICT"
    LENIENT = "LENIENT"


def _timestamp(value: Any, where: str, path: str) -> datetime:
    if not isinstance(value, str):
        raise RegistryError(f"{where} must be a date (YYYY-MM-DD) or RFC 3339 time", path=path)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise RegistryError(
            f"{where}: {value!r} is not a date or RFC 3339 time", path=path
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Deprecation:
    """A deprecated type or version. Published events carry the CloudEvents deprecation
    extension (``deprecated``, ``deprecationfrom``, ``deprecationsunset``,
    ``deprecationmigration``)."""

    since: datetime | None = None
    sunset: datetime | None = None
    replaced_by: str | None = None
    migration: str | None = None
    reason: str | None = None

    @classmethod
    def parse(cls, value: Any, where: str, path: str) -> Deprecation:
        if value is True:
            return cls()
        if not isinstance(value, Mapping):
            raise RegistryError(f"{where} must be true or an object", path=path)
        unknown = set(value) - {"since", "sunset", "replaced_by", "migration", "reason"}
        if unknown:
            raise RegistryError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}", path=path)
        migration = value.get("migration")
        if migration is not None and (
            not isinstance(migration, str) or not is_absolute_uri(migration)
        ):
            raise RegistryError(f"{where}.migration must be an absolute URI", path=path)
        for key in ("replaced_by", "reason"):
            if key in value and not isinstance(value[key], str):
                raise RegistryError(f"{where}.{key} must be a string", path=path)
        return cls(
            since=_timestamp(value["since"], f"{where}.since", path) if "since" in value else None,
            sunset=_timestamp(value["sunset"], f"{where}.sunset", path)
            if "sunset" in value
            else None,
            replaced_by=value.get("replaced_by"),
            migration=migration,
            reason=value.get("reason"),
        )

    def describe(self) -> str:
        parts = ["deprecated"]
        if self.since:
            parts.append(f"since {self.since.date().isoformat()}")
        if self.sunset:
            parts.append(f"sunset {self.sunset.date().isoformat()}")
        if self.replaced_by:
            parts.append(f"use {self.replaced_by}")
        if self.reason:
            parts.append(f"({self.reason})")
        return " ".join(parts)


@dataclass(frozen=True)
class ContractConfig:
    """``contract.json`` of one event type (every key optional)."""

    compatibility: CompatibilityMode = CompatibilityMode.BACKWARD
    policy: CompatibilityPolicy = CompatibilityPolicy.STRICT
    description: str | None = None
    owner: str | None = None
    deprecated: Deprecation | None = None
    version_deprecations: Mapping[int, Deprecation] = field(default_factory=dict)
    dialect: str | None = None  # for schemas without $schema; else the registry's


_CONFIG_KEYS = {"$comment", "description", "owner", "compatibility", "policy", "deprecated"}
_CONFIG_KEYS |= {"versions", "dialect"}


def _enum(kind: type[enum.Enum], value: Any, key: str, path: str) -> Any:
    try:
        return kind(str(value).upper())
    except ValueError:
        names = ", ".join(str(m.value) for m in kind)
        raise RegistryError(f"{key} {value!r} is not one of {names}", path=path) from None


def parse_config(data: Any, path: str) -> ContractConfig:
    """Read a ``contract.json`` object; raises :class:`RegistryError` naming the key."""
    if not isinstance(data, Mapping):
        raise RegistryError("must be a JSON object", path=path)
    unknown = set(data) - _CONFIG_KEYS
    if unknown:
        raise RegistryError(f"unknown key(s) {', '.join(sorted(unknown))}", path=path)
    versions: dict[int, Deprecation] = {}
    raw_versions = data.get("versions", {})
    if not isinstance(raw_versions, Mapping):
        raise RegistryError("versions must be an object keyed by version number", path=path)
    for key, value in raw_versions.items():
        if not str(key).isdigit() or not isinstance(value, Mapping) or set(value) - {"deprecated"}:
            raise RegistryError(
                f'versions.{key} must be "<number>": {{"deprecated": ...}}', path=path
            )
        if "deprecated" in value:
            versions[int(key)] = Deprecation.parse(
                value["deprecated"], f"versions.{key}.deprecated", path
            )
    for key in ("description", "owner"):
        if key in data and not isinstance(data[key], str):
            raise RegistryError(f"{key} must be a string", path=path)
    deprecated = data.get("deprecated")
    dialect = None
    if "dialect" in data:
        from eventbus._contracts.validate import parse_dialect

        try:
            dialect = parse_dialect(data["dialect"])
        except RegistryError as exc:
            raise RegistryError(exc.detail, path=path, pointer="/dialect") from None
    return ContractConfig(
        dialect=dialect,
        compatibility=_enum(
            CompatibilityMode, data.get("compatibility", "BACKWARD"), "compatibility", path
        ),
        policy=_enum(CompatibilityPolicy, data.get("policy", "STRICT"), "policy", path),
        description=data.get("description"),
        owner=data.get("owner"),
        deprecated=None
        if deprecated in (None, False)
        else Deprecation.parse(deprecated, "deprecated", path),
        version_deprecations=versions,
    )


@dataclass(frozen=True, order=True)
class Finding:
    """One problem found by ``lint`` or ``check``: severity ``error`` or ``warning``, a short
    ``code``, the file (and JSON pointer in it) and what is wrong."""

    path: str
    code: str
    message: str
    severity: str = "error"
    pointer: str | None = None

    def __str__(self) -> str:
        where = self.path + (f"#{self.pointer}" if self.pointer is not None else "")
        return f"{self.severity:<7} {where}: {self.message} [{self.code}]"

    def to_json(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "code": self.code,
            "path": self.path,
            "pointer": self.pointer,
            "message": self.message,
        }
