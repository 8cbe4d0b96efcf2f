"""`baton eval export --out FILE.jsonl`: stored conversations as a handoff evaluation set
(``eval/export.py`` has the labelling rules), to run through `baton eval handoff`."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path

from knowledge import InputError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export", help="export stored conversations, labelled by what happened, as an evaluation set"
    )
    parser.add_argument("--out", required=True, help="JSONL file to write (EVAL_FORMAT.md handoff set)")
    parser.add_argument("--database", default=None,
                        help="database URL (default: the configured store, BATON_DATABASE_URL)")
    parser.add_argument("--since", default=None, help="ISO date or datetime (UTC unless given): created from")
    parser.add_argument("--until", default=None, help="ISO date or datetime: created before")
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from engine.db import make_engine
    from engine.settings import get_settings
    from eval.export import export

    since, until = moment(args.since, "since"), moment(args.until, "until")
    if since and until and since >= until:
        raise InputError(f"--since ({since.isoformat()}) must be before --until ({until.isoformat()})",
                         field="since")
    url = args.database or get_settings().database_url
    engine = make_engine(url, readonly=True)
    try:
        counts = export(engine, Path(args.out), since, until)
    except SQLAlchemyError as exc:
        raise InputError(f"cannot read the store ({type(exc).__name__}: {str(exc).splitlines()[0]})",
                         field="database") from exc
    finally:
        engine.dispose()
    skipped = counts.pop("skipped", 0)
    print(json.dumps({"out": args.out, "exported": sum(counts.values()), "skipped": skipped,
                      "by_rule": dict(sorted(counts.items()))}, indent=2))
    return 0


def moment(text: str | None, field: str) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"--{field} must be an ISO date or datetime, got {text!r}", field=field) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
