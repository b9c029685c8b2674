"""The contract registry on disk.

::

    contracts/
      registry.json                  optional: {"base_uri": "https://contracts.example.com/shop/"}
      com.example.shop.order.placed/ one directory per event type
        contract.json                optional: compatibility, policy, deprecation, description
        v1.schema.json               JSON Schema 2020-12 or draft-07 (by its "$schema")
        v2.schema.json
        examples/v2/valid/*.json     data that v2 must accept
        examples/v2/invalid/*.json   data that v2 must reject
        consumers/*.json             what each consumer reads (see expectations)

The ``dataschema`` of version N of a type is ``<base_uri><type>/vN.schema.json``: the registry's
layout, so it can be served as static files. Schemas are read when the registry is opened and
compiled into validators on first use, once.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import referencing
import referencing.jsonschema

from eventbus._contracts.model import ContractConfig, Deprecation, Finding, parse_config
from eventbus._contracts.validate import SchemaValidator, dialect_of
from eventbus._errors import RegistryError, UnknownSchemaError, Violation
from eventbus._types import is_absolute_uri

__all__ = ["Contract", "Example", "Registry", "SchemaVersion", "read_json"]

REGISTRY_FILE = "registry.json"
CONFIG_FILE = "contract.json"
DEFAULT_BASE_URI = "urn:eventbus:contracts:"
_VERSION_FILE = re.compile(r"^v([1-9][0-9]*)\.schema\.json$")
_VERSION_DIR = re.compile(r"^v([1-9][0-9]*)$")


def read_json(path: Path) -> Any:
    """Parse a JSON file; :class:`RegistryError` names the file, line and column on failure."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RegistryError(f"cannot read: {exc.strerror or exc}", path=str(path)) from None
    except UnicodeDecodeError:
        raise RegistryError("not UTF-8 text", path=str(path)) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise RegistryError(
            f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", path=str(path)
        ) from None


@dataclass(frozen=True)
class SchemaVersion:
    """One version of one event type's schema."""

    type: str
    version: int
    path: Path
    schema: Mapping[str, Any]
    uri: str
    dialect: str | None

    def __str__(self) -> str:
        return f"{self.type} v{self.version}"


@dataclass(frozen=True)
class Example:
    """An example payload that version ``version`` must accept (``valid``) or reject."""

    type: str
    version: int
    name: str
    path: Path
    valid: bool
    data: Any


@dataclass(frozen=True)
class Contract:
    """Everything the registry holds about one event type."""

    type: str
    directory: Path
    config: ContractConfig
    versions: tuple[SchemaVersion, ...]
    examples: tuple[Example, ...]
    consumer_paths: tuple[Path, ...]

    @property
    def latest(self) -> SchemaVersion:
        return self.versions[-1]

    def version(self, number: int) -> SchemaVersion:
        for v in self.versions:
            if v.version == number:
                return v
        known = ", ".join(f"v{v.version}" for v in self.versions)
        raise UnknownSchemaError(f"{self.type} has no version {number} (versions: {known})")

    def deprecation(self, number: int | None = None) -> Deprecation | None:
        """The deprecation of a version, else of the whole type, else None."""
        if number is not None and number in self.config.version_deprecations:
            return self.config.version_deprecations[number]
        return self.config.deprecated


class Registry:
    """A contract registry read from ``root`` (default ``./contracts``).

    With ``strict=True`` (the default) any unreadable or malformed file raises
    :class:`RegistryError`; with ``strict=False`` the broken parts are skipped and listed in
    ``problems`` (what ``eventbus contracts lint`` reports).
    """

    def __init__(self, root: str | os.PathLike[str] = "contracts", *, strict: bool = True) -> None:
        self.root = Path(root)
        self._strict = strict
        self._problems: list[Finding] = []
        if not self.root.is_dir():
            raise RegistryError("no contract registry here (not a directory)", path=str(self.root))
        meta = (
            self._read(self.root / REGISTRY_FILE, {})
            if (self.root / REGISTRY_FILE).exists()
            else {}
        )
        if not isinstance(meta, Mapping):
            self._fail(RegistryError("must be a JSON object", path=str(self.root / REGISTRY_FILE)))
            meta = {}
        base = meta.get("base_uri", DEFAULT_BASE_URI)
        if not isinstance(base, str) or not is_absolute_uri(base):
            self._fail(
                RegistryError(
                    "base_uri must be an absolute URI", path=str(self.root / REGISTRY_FILE)
                )
            )
            base = DEFAULT_BASE_URI
        self.base_uri: str = base
        self.name: str = str(meta.get("name", self.root.resolve().name))
        self.description: str | None = meta.get("description")
        self._contracts: dict[str, Contract] = {}
        for directory in sorted(p for p in self.root.iterdir() if p.is_dir()):
            if directory.name.startswith((".", "_")):
                continue
            contract = self._load_contract(directory)
            if contract is not None:
                self._contracts[contract.type] = contract
        self._by_uri = {v.uri: v for c in self._contracts.values() for v in c.versions}
        self._validators: dict[tuple[str, int], SchemaValidator] = {}
        self._resources: referencing.Registry[Any] | None = None

    def __repr__(self) -> str:
        return f"Registry({str(self.root)!r}, {len(self._contracts)} types)"

    # -- loading ------------------------------------------------------------------------------

    def _fail(self, error: RegistryError) -> None:
        if self._strict:
            raise error
        self._problems.append(Finding(error.path or str(self.root), "unreadable", str(error)))

    def _read(self, path: Path, default: Any) -> Any:
        try:
            return read_json(path)
        except RegistryError as exc:
            self._fail(exc)
            return default

    def _load_contract(self, directory: Path) -> Contract | None:
        name = directory.name
        config_path = directory / CONFIG_FILE
        config = ContractConfig()
        if config_path.exists():
            try:
                config = parse_config(read_json(config_path), str(config_path))
            except RegistryError as exc:
                self._fail(exc)
        versions: list[SchemaVersion] = []
        for path in sorted(directory.glob("*.schema.json")):
            match = _VERSION_FILE.match(path.name)
            if match is None:
                self._fail(RegistryError("schema files are named v<N>.schema.json", path=str(path)))
                continue
            schema = self._read(path, None)
            if not isinstance(schema, Mapping):
                if schema is not None:
                    self._fail(RegistryError("a schema must be a JSON object", path=str(path)))
                continue
            number = int(match.group(1))
            uri = self.dataschema(name, number)
            versions.append(SchemaVersion(name, number, path, schema, uri, dialect_of(schema)))
        if not versions:
            if config_path.exists():
                self._fail(RegistryError("no v<N>.schema.json in this type", path=str(directory)))
            return None
        versions.sort(key=lambda v: v.version)
        return Contract(
            type=name,
            directory=directory,
            config=config,
            versions=tuple(versions),
            examples=tuple(self._examples(name, directory / "examples")),
            consumer_paths=tuple(sorted((directory / "consumers").glob("*.json"))),
        )

    def _examples(self, name: str, directory: Path) -> Iterator[Example]:
        if not directory.is_dir():
            return
        for version_dir in sorted(directory.iterdir()):
            match = _VERSION_DIR.match(version_dir.name)
            if not version_dir.is_dir() or match is None:
                self._fail(
                    RegistryError(
                        "examples are in examples/v<N>/(valid|invalid)/", path=str(version_dir)
                    )
                )
                continue
            for kind in ("valid", "invalid"):
                for path in sorted((version_dir / kind).glob("*.json")):
                    data = self._read(path, _MISSING)
                    if data is not _MISSING:
                        yield Example(
                            name, int(match.group(1)), path.stem, path, kind == "valid", data
                        )

    # -- reading ------------------------------------------------------------------------------

    @property
    def problems(self) -> tuple[Finding, ...]:
        """What could not be read (only with ``strict=False``)."""
        return tuple(self._problems)

    @property
    def types(self) -> tuple[str, ...]:
        return tuple(self._contracts)

    @property
    def contracts(self) -> tuple[Contract, ...]:
        return tuple(self._contracts.values())

    def get(self, event_type: str) -> Contract | None:
        return self._contracts.get(event_type)

    def contract(self, event_type: str) -> Contract:
        contract = self._contracts.get(event_type)
        if contract is None:
            raise UnknownSchemaError(
                f"{event_type!r} has no contract in the registry at {self.root} "
                f"(types: {', '.join(self._contracts) or 'none'})"
            )
        return contract

    def dataschema(self, event_type: str, version: int) -> str:
        """The ``dataschema`` URI of a version: ``<base_uri><type>/v<N>.schema.json``."""
        return f"{self.base_uri}{event_type}/v{version}.schema.json"

    def by_uri(self, uri: str) -> SchemaVersion | None:
        return self._by_uri.get(uri)

    def resolve(self, event_type: str, dataschema: str | None = None) -> SchemaVersion | None:
        """The schema an event of ``event_type`` is checked against: the version its
        ``dataschema`` names, else the latest. None when the type has no contract; raises
        :class:`UnknownSchemaError` when ``dataschema`` does not resolve to that type."""
        contract = self._contracts.get(event_type)
        if contract is None:
            return None
        if dataschema is None:
            return contract.versions[-1]
        found = self._by_uri.get(dataschema)
        if found is None:
            known = ", ".join(v.uri for v in contract.versions)
            raise UnknownSchemaError(
                f"dataschema {dataschema!r} does not resolve in the registry at {self.root} "
                f"(versions of {event_type}: {known})"
            )
        if found.type != event_type:
            raise UnknownSchemaError(
                f"dataschema {dataschema!r} is the schema of {found.type!r}, not of {event_type!r}"
            )
        return found

    def validator(self, event_type: str, version: int | None = None) -> SchemaValidator:
        """The compiled validator of a version (the latest by default), built once."""
        contract = self.contract(event_type)
        sv = contract.versions[-1] if version is None else contract.version(version)
        key = (event_type, sv.version)
        validator = self._validators.get(key)
        if validator is None:
            validator = SchemaValidator(sv.schema, registry=self.resources())
            self._validators[key] = validator
        return validator

    def violations(self, event_type: str, data: Any, version: int | None = None) -> list[Violation]:
        return self.validator(event_type, version).validate(data)

    def validate(self, event_type: str, data: Any, version: int | None = None) -> None:
        """Raise :class:`SchemaValidationError` listing every violation of ``data``."""
        contract = self.contract(event_type)
        sv = contract.versions[-1] if version is None else contract.version(version)
        self.validator(event_type, sv.version).check(
            data, event_type=event_type, version=sv.version, dataschema=sv.uri
        )

    def resources(self) -> referencing.Registry[Any]:
        """Every schema as a ``referencing`` resource, under its ``dataschema`` URI (and its
        ``$id`` when that differs), so schemas can ``$ref`` each other."""
        if self._resources is None:
            pairs: list[tuple[str, referencing.Resource[Any]]] = []
            for uri, sv in self._by_uri.items():
                resource = referencing.Resource.from_contents(
                    sv.schema, default_specification=referencing.jsonschema.DRAFT202012
                )
                pairs.append((uri, resource))
                own = sv.schema.get("$id")
                if isinstance(own, str) and own != uri:
                    pairs.append((own, resource))
            self._resources = referencing.Registry().with_resources(pairs)
        return self._resources


_MISSING = object()
