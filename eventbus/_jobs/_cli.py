"""``eventbus jobs list|show|cancel STORE_URL``: look at and cancel durable jobs.

``STORE_URL`` is the job store (a SQLite path or ``sqlite:///path.db``, ``postgresql://...``,
``redis://...``). ``cancel`` writes the store only (no bus): workers see the cancellation when
they start the job or report progress.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

__all__ = ["add_parser", "run"]

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


def add_parser(sub: Any) -> None:
    jobs = sub.add_parser("jobs", help="durable jobs: list, show, cancel")
    commands = jobs.add_subparsers(dest="jobs_command", metavar="COMMAND", required=True)
    listing = commands.add_parser("list", help="the newest jobs")
    show = commands.add_parser("show", help="one job's status")
    cancel = commands.add_parser("cancel", help="cancel a job that is not final yet")
    for parser in (listing, show, cancel):
        parser.add_argument(
            "url",
            metavar="STORE_URL",
            help="SQLite path, sqlite:///path.db, postgresql://..., redis://...",
        )
        parser.add_argument("--table", default="eventbus_jobs", help="table (key prefix on Redis)")
        parser.add_argument("--json", action="store_true", help="print JSON")
    for parser in (show, cancel):
        parser.add_argument("job_id", metavar="JOB_ID", help="the job id (as submit returned it)")
    listing.add_argument("--state", help="only jobs in this state")
    listing.add_argument("--type", help="only jobs of this type")
    listing.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")


def _line(status: dict[str, Any]) -> str:
    progress = "" if status.get("progress") is None else f" {status['progress']:.0%}"
    return (
        f"{status['id']}  {status['state']:<9}{progress}  {status['type']}  "
        f"attempts={status.get('attempts', 0)}  updated={status['updated']}"
    )


async def _run(args: argparse.Namespace) -> int:
    from eventbus._jobs._model import public
    from eventbus._jobs._store import open_job_store

    store = open_job_store(args.url, table=args.table)
    try:
        if args.jobs_command == "list":
            from eventbus._jobs._jobs import _state

            state = None if args.state is None else _state(args.state)
            found = [
                public(s) for s in await store.list(state=state, type=args.type, limit=args.limit)
            ]
            if args.json:
                print(json.dumps(found, default=str))
            else:
                for shown in found:
                    print(_line(shown))
            return EXIT_OK
        status = await store.get(args.job_id)
        if status is None:
            print(f"eventbus jobs: no job {args.job_id!r} in {store.name}", file=sys.stderr)
            return EXIT_FAILURE
        code = EXIT_OK
        if args.jobs_command == "cancel":
            from eventbus._jobs._jobs import cancel_in_store

            status, changed = await cancel_in_store(store, args.job_id)
            if not changed:
                print(
                    f"eventbus jobs: job {args.job_id} is {status.state.value} already",
                    file=sys.stderr,
                )
                code = EXIT_FAILURE
        shown = public(status)
        print(
            json.dumps(shown, default=str)
            if args.json
            else json.dumps(shown, default=str, indent=2)
        )
        return code
    finally:
        await store.close()


def run(args: argparse.Namespace) -> int:
    if getattr(args, "limit", 1) < 1:
        print(f"eventbus jobs: --limit must be >= 1, got {args.limit}", file=sys.stderr)
        return EXIT_USAGE
    if getattr(args, "state", None) is not None:
        from eventbus._jobs._model import JobState

        if args.state not in {s.value for s in JobState}:
            names = ", ".join(s.value for s in JobState)
            print(f"eventbus jobs: --state {args.state!r} is not one of {names}", file=sys.stderr)
            return EXIT_USAGE
    return asyncio.run(_run(args))
