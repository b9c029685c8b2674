"""``eventbus contracts ...``: the registry from the command line, for people and CI.

Human-readable output by default, ``--json`` for machines. Exit codes: 0 compatible / valid,
1 incompatible / invalid, 2 usage error or an unreadable schema or registry.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from eventbus._contracts.model import CompatibilityMode, Finding
from eventbus._errors import ContractError, DecodeError, InvalidSchemaError, RegistryError

__all__ = ["add_parser", "run"]

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
_REGISTRY = "the contract registry directory (default ./contracts)"


def add_parser(sub: Any) -> None:
    """Register ``contracts`` and its subcommands on the CLI's subparsers."""
    p = sub.add_parser(
        "contracts", help="contract registry: compat, check, validate, lint, asyncapi, vectors"
    )
    p.set_defaults(contracts_parser=p)
    cs = p.add_subparsers(dest="contracts_command", metavar="SUBCOMMAND", parser_class=type(p))
    json_flag = argparse.ArgumentParser(add_help=False)
    json_flag.add_argument("--json", action="store_true", help="machine-readable output")

    c = cs.add_parser("compat", parents=[json_flag], help="compare two schema files")
    c.add_argument("old", metavar="OLD.json", help="the schema consumers were built against")
    c.add_argument("new", metavar="NEW.json", help="the schema to publish from now on")
    c.add_argument(
        "--mode",
        default="BACKWARD",
        type=str.upper,
        choices=[m.value for m in CompatibilityMode],
        help="the compatibility mode to check (default BACKWARD)",
    )
    c.add_argument(
        "--policy",
        default="strict",
        type=str.lower,
        choices=["strict", "lenient"],
        help="which changes count as compatible (default strict: Confluent's strict set)",
    )

    k = cs.add_parser(
        "check", parents=[json_flag], help="the CI gate: modes, examples, consumers, base"
    )
    k.add_argument("registry", nargs="?", default="contracts", metavar="REGISTRY", help=_REGISTRY)
    k.add_argument("--against", metavar="GIT_REF_OR_DIR", help="the base: a git ref or a directory")

    v = cs.add_parser("validate", parents=[json_flag], help="validate CloudEvents JSON files")
    v.add_argument("files", nargs="+", metavar="FILE", help="a CloudEvent in JSON (repeatable)")
    v.add_argument("--registry", default="contracts", help=_REGISTRY)

    li = cs.add_parser("lint", parents=[json_flag], help="check the registry's layout and schemas")
    li.add_argument("registry", nargs="?", default="contracts", metavar="REGISTRY", help=_REGISTRY)
    li.add_argument("--strict", action="store_true", help="warnings fail too")

    a = cs.add_parser(
        "asyncapi",
        parents=[json_flag],
        help="print an AsyncAPI 3.0 document (JSON) of the registry",
    )
    a.add_argument("registry", nargs="?", default="contracts", metavar="REGISTRY", help=_REGISTRY)
    a.add_argument("--title", help="info.title (default: '<registry name> events')")
    a.add_argument("--version", default="1.0.0", dest="doc_version", help="info.version")
    a.add_argument(
        "--action",
        choices=["send", "receive", "both"],
        default="both",
        help="the operations to describe (default both)",
    )
    a.add_argument(
        "--server",
        action="append",
        default=[],
        metavar="URL",
        help="a broker URL for servers (nats://, pubsub://PROJECT, servicebus://NAMESPACE, "
        "amqps://, kafka://); its broker decides header names and bindings (repeatable)",
    )
    a.add_argument(
        "--broker",
        choices=["nats", "pubsub", "servicebus", "kafka"],
        help="describe this broker's headers and bindings without naming a server",
    )
    a.add_argument("--output", "-o", help="write to this file instead of stdout")

    vec = cs.add_parser("vectors", parents=[json_flag], help="write golden test vectors")
    vec.add_argument(
        "paths",
        nargs="+",
        metavar="[REGISTRY] OUT_DIR",
        help="the registry (default ./contracts) and the directory to write to",
    )


def run(args: argparse.Namespace) -> int:
    command = getattr(args, "contracts_command", None)
    if command is None:
        args.contracts_parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        handler = {
            "compat": _compat,
            "check": _check,
            "validate": _validate,
            "lint": _lint,
            "asyncapi": _asyncapi,
            "vectors": _vectors,
        }[command]
        return handler(args)
    except ContractError as exc:
        print(f"eventbus contracts {command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # an internal failure is never "incompatible" (exit 1)
        print(
            f"eventbus contracts {command}: internal error: {type(exc).__name__}: {exc}",
            file=sys.stderr,
        )
        return EXIT_USAGE


def _emit(args: argparse.Namespace, data: Any, text: list[str]) -> None:
    if getattr(args, "json", False):
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        print("\n".join(text))


def _compat(args: argparse.Namespace) -> int:
    from eventbus._contracts.compat import check_compatibility
    from eventbus._contracts.registry import read_json
    from eventbus._contracts.validate import MAX_SCHEMA_DEPTH, schema_depth

    old, new = read_json(Path(args.old)), read_json(Path(args.new))
    for path, schema in ((args.old, old), (args.new, new)):
        if not isinstance(schema, dict | bool):
            raise RegistryError("a schema must be a JSON object or a boolean", path=path)
        if schema_depth(schema) > MAX_SCHEMA_DEPTH:
            raise InvalidSchemaError(
                f"the schema nests deeper than {MAX_SCHEMA_DEPTH} levels (the limit)",
                path=path,
                code="depth",
            )
    result = check_compatibility(old, new, args.mode, args.policy)
    result = type(result)(result.mode, result.policy, result.changes, args.old, args.new)
    verdict = "compatible" if result.compatible else "INCOMPATIBLE"
    lines = [
        f"{verdict}: {args.new} against {args.old} under {result.mode.value} ({result.policy.value})"
    ]
    lines += [f"  {c}" for c in result.changes] or ["  no changes"]
    if not result.compatible:
        lines.append(
            f"breaks: {', '.join(sorted(d.value for d in result.broken & result.mode.directions))}"
        )
    _emit(args, result.to_json(), lines)
    return EXIT_OK if result.compatible else EXIT_FAILURE


def _report(
    args: argparse.Namespace, findings: list[Finding], what: str, *, strict: bool = False
) -> int:
    errors = [f for f in findings if f.severity == "error"]
    warnings = [f for f in findings if f.severity == "warning"]
    failed = bool(errors) or (strict and bool(warnings))
    lines = [str(f) for f in findings]
    lines.append(
        f"{what}: {'FAILED' if failed else 'ok'} ({len(errors)} error(s), {len(warnings)} warning(s))"
    )
    _emit(
        args,
        {
            "ok": not failed,
            "errors": len(errors),
            "warnings": len(warnings),
            "findings": [f.to_json() for f in findings],
        },
        lines,
    )
    if any(f.code == "unreadable" for f in errors):
        return EXIT_USAGE
    return EXIT_FAILURE if failed else EXIT_OK


def _check(args: argparse.Namespace) -> int:
    from eventbus._contracts.check import check
    from eventbus._contracts.gitbase import materialize, temporary_directory
    from eventbus._contracts.registry import Registry

    registry = Registry(args.registry, strict=False)
    if args.against is None:
        return _report(args, check(registry), "check")
    with temporary_directory() as tmp:
        base_dir = materialize(args.against, registry.root, Path(tmp))
        base = Registry(base_dir, strict=False) if base_dir is not None else None
        return _report(args, check(registry, base), f"check against {args.against}")


def _lint(args: argparse.Namespace) -> int:
    from eventbus._contracts.lint import lint
    from eventbus._contracts.registry import Registry

    return _report(args, lint(Registry(args.registry, strict=False)), "lint", strict=args.strict)


def _validate(args: argparse.Namespace) -> int:
    from eventbus._contracts.middleware import event_data
    from eventbus._contracts.registry import Registry
    from eventbus._wire._format import from_json, from_json_batch

    registry = Registry(args.registry)
    results: list[dict[str, Any]] = []
    lines: list[str] = []
    broken = False
    for name in args.files:
        try:
            body = Path(name).read_bytes()
        except OSError as exc:
            raise RegistryError(f"cannot read: {exc.strerror or exc}", path=name) from None
        try:
            events = from_json_batch(body) if body.lstrip()[:1] == b"[" else [from_json(body)]
        except DecodeError as exc:
            results.append({"file": name, "valid": False, "error": f"not a CloudEvent: {exc}"})
            lines.append(f"{name}: INVALID: not a CloudEvent: {exc}")
            continue
        for index, event in enumerate(events):
            label = name if len(events) == 1 else f"{name}[{index}]"
            entry: dict[str, Any] = {"file": label, "type": event.type, "id": event.id}
            try:
                sv = registry.resolve(event.type, event.dataschema)
                if sv is None:
                    raise RegistryError(f"no contract for {event.type!r} in {registry.root}")
                violations = registry.violations(sv.type, event_data(event), sv.version)
            except ContractError as exc:
                broken = broken or isinstance(exc, InvalidSchemaError)
                entry.update(valid=False, error=str(exc))
                lines.append(f"{label}: INVALID: {exc}")
                results.append(entry)
                continue
            entry.update(
                version=sv.version,
                valid=not violations,
                violations=[
                    {"pointer": v.pointer, "keyword": v.keyword, "message": v.message}
                    for v in violations
                ],
            )
            lines.append(
                f"{label}: {'ok' if not violations else 'INVALID'} ({event.type} v{sv.version})"
            )
            lines += [f"  {v}" for v in violations]
            results.append(entry)
    ok = all(r["valid"] for r in results)
    _emit(args, {"ok": ok, "results": results}, lines)
    if broken:
        return EXIT_USAGE  # a schema of the registry cannot be used: not the data's fault
    return EXIT_OK if ok else EXIT_FAILURE


def _asyncapi(args: argparse.Namespace) -> int:
    from eventbus._contracts.asyncapi import asyncapi_document
    from eventbus._contracts.registry import Registry

    actions = ("send", "receive") if args.action == "both" else (args.action,)
    document = asyncapi_document(
        Registry(args.registry),
        title=args.title,
        version=args.doc_version,
        actions=actions,
        servers=tuple(args.server),
        broker=args.broker,
    )
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _vectors(args: argparse.Namespace) -> int:
    from eventbus._contracts.registry import Registry
    from eventbus._contracts.vectors import write_vectors

    if len(args.paths) > 2:
        raise RegistryError("usage: eventbus contracts vectors [REGISTRY] OUT_DIR")
    registry_path, out_dir = args.paths if len(args.paths) == 2 else ["contracts", args.paths[0]]
    index = write_vectors(Registry(registry_path), Path(out_dir))
    _emit(
        args,
        {"out_dir": out_dir, "vectors": index},
        [f"wrote {len(index)} vectors and index.json to {out_dir}"],
    )
    return EXIT_OK
