"""The contract registry on disk.

::

    contracts/
      registry.json                  optional: {"base_uri": "https://contracts.example.com/shop/",
                                                "dialect": "draft-07"}
      com.example.shop.order.placed/ one directory per event type
        contract.json                optional: compatibility, policy, deprecation, dialect, ...
        v1.schema.json               JSON Schema draft-07 or 2020-12 (its "$schema", else the
                                     type's dialect, else the registry's: draft-07 by default)
        v2.schema.json
        examples/v2/valid/*.json     data that v2 must accept
        examples/v2/invalid/*.json   data that v2 must reject
        consumers/*.json             what each consumer reads (see expectations)

The ``dataschema`` of version N of a type is ``<base_uri><type>/vN.schema.json``: the registry's
layout, so it can be served as static files. Schemas are read and compiled when the registry
is opened. A schema that cannot be used (see :class:`InvalidSchemaError`) is isolated: it is
listed in ``problems``, its versions raise that error when used, and every other type works.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eventbus._contracts.model import ContractConfig, Deprecation, Finding, parse_config
from eventbus._contracts.validate import DEFAULT_DIALECT, SchemaValidator, dialect_of, parse_dialect
from eventbus._errors import InvalidSchemaError, RegistryError, UnknownSchemaError, Violation
from eventbus._wire._types import is_absolute_uri

__all__ = ["Contract", "Example", "Registry", "SchemaVersion", "read_json"]

log = logging.getLogger("eventbus.contracts")

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
    except RecursionError:
        raise RegistryError("nests too deeply to read", path=str(path)) from None


@dataclass(frozen=True)
class SchemaVersion:
    """One version of one event type's schema."""

    type: str
    version: int
    path: Path
    schema: Mapping[str, Any]
    uri: str
    dialect: str | None  # None when its $schema names no supported dialect

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
        self.dialect: str = DEFAULT_DIALECT
        if "dialect" in meta:
            try:
                self.dialect = parse_dialect(meta["dialect"])
            except InvalidSchemaError as exc:
                self._fail(RegistryError(str(exc), path=str(self.root / REGISTRY_FILE)))
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
        self._by_id = {
            v.schema["$id"].split("#", 1)[0]: v
            for c in self._contracts.values()
            for v in c.versions
            if isinstance(v.schema.get("$id"), str)
        }
        self._validators: dict[tuple[str, int], SchemaValidator] = {}
        self._broken: dict[tuple[str, int], InvalidSchemaError] = {}
        for contract in self._contracts.values():
            for sv in contract.versions:
                self._compile(sv)

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
            try:
                dialect: str | None = dialect_of(schema, config.dialect or self.dialect)
            except InvalidSchemaError:
                dialect = None  # compiling it reports the problem
            versions.append(SchemaVersion(name, number, path, schema, uri, dialect))
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

    def _compile(self, sv: SchemaVersion) -> None:
        key = (sv.type, sv.version)
        contract = self._contracts[sv.type]
        try:
            self._validators[key] = SchemaValidator(
                sv.schema,
                dialect=contract.config.dialect or self.dialect,
                retrieve=self.retrieve,
            )
        except InvalidSchemaError as exc:
            detail = f"{sv} cannot be used: {exc.detail}"
            error = InvalidSchemaError(
                detail, path=str(sv.path), pointer=exc.pointer, code=exc.code
            )
            self._broken[key] = error
            self._problems.append(Finding(str(sv.path), exc.code, detail, pointer=exc.pointer))
            log.warning("eventbus: %s", error)

    def retrieve(self, uri: str) -> Any:
        """The schema a ``$ref`` URI names: a version's ``dataschema`` or ``$id`` (None when
        the registry has none)."""
        base = uri.split("#", 1)[0]
        found = self._by_uri.get(base) or self._by_id.get(base)
        return None if found is None else found.schema

    def broken(self, event_type: str, version: int) -> InvalidSchemaError | None:
        """Why a version's schema cannot be used, or None when it can."""
        return self._broken.get((event_type, version))

    def validator(self, event_type: str, version: int | None = None) -> SchemaValidator:
        """The compiled validator of a version (the latest by default); raises
        :class:`InvalidSchemaError` when that schema cannot be used."""
        contract = self.contract(event_type)
        sv = contract.versions[-1] if version is None else contract.version(version)
        key = (event_type, sv.version)
        validator = self._validators.get(key)
        if validator is None:
            raise self._broken[key]
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


_MISSING = object()
