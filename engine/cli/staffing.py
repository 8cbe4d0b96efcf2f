"""``baton staffing``: operators needed per hour of the week, from the traffic in the store."""

from __future__ import annotations

import argparse
import dataclasses
import json
from typing import TYPE_CHECKING

from engine.cli.report import duration

if TYPE_CHECKING:
    from engine.service.staffing import Forecast


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("staffing", help="operators needed per hour of the week for a service "
                                   "level (Erlang C over concurrent chats, from stored traffic)")
    parser.add_argument("--start", help="ISO date or datetime (UTC unless given); default: 28 days before "
                        "end")
    parser.add_argument("--end", help="ISO date or datetime; default: now")
    parser.add_argument("--service-level", type=float, default=0.8,
                        help="share of visitors answered within --answer-seconds (default 0.8)")
    parser.add_argument("--answer-seconds", type=float, default=30.0, help="default 30")
    parser.add_argument("--concurrency", type=float, default=None,
                        help="chats per operator at once (default: the operators' configured capacity)")
    parser.add_argument("--tz", default="UTC", help="IANA time zone for the hours of the week (default UTC)")
    parser.add_argument("--json", action="store_true", help="print the forecast as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from engine.db import make_engine
    from engine.service import metrics, staffing
    from engine.settings import get_settings

    start, end = metrics.parse_window(args.start, args.end, days=28)
    target = staffing.Target(share=args.service_level, answer_seconds=args.answer_seconds)
    tz = staffing.zone(args.tz)
    engine = make_engine(get_settings().database_url)
    try:
        with Session(engine) as session:
            result = metrics.staffing_forecast(session, start, end, target, tz, args.concurrency)
    finally:
        engine.dispose()
    print(json.dumps(dataclasses.asdict(result), default=str, indent=2) if args.json else render(result))
    return 0


def render(f: Forecast) -> str:
    """A summary, the week as a table of operators needed (hours down, weekdays across), and the
    figures per operator."""
    from engine.service.staffing import WEEKDAYS

    lines = [
        f"Traffic {f.start:%Y-%m-%d %H:%M} to {f.end:%Y-%m-%d %H:%M} UTC: {f.arrivals} conversations for "
        f"people, "
        f"mean handle {duration(f.handle_seconds)}, {f.concurrency:g} chats per operator",
        f"Target: {f.target.share:.0%} answered within {f.target.answer_seconds:g} s. "
        f"Peak {f.peak} operators, {f.operator_hours} operator-hours a week. Hours in {f.timezone}.",
        "",
        "hour  " + "  ".join(f"{d:>4}" for d in WEEKDAYS),
    ]
    for hour in range(24):
        lines.append(f"{hour:02d}:00 " + "  ".join(f"{f.cell(d, hour).operators:>4}" for d in range(7)))
    if f.operators:
        lines += ["", "operator              handled  mean handle  concurrency  capacity"]
        lines += [f"{(o.name or str(o.operator_id))[:20]:<20}  {o.handled:>7}  "
                  f"{duration(o.mean_handle_seconds):>11}  {o.concurrency:>11.2f}  "
                  f"{o.capacity if o.capacity is not None else '-':>8}"
                  for o in f.operators]
    return "\n".join(lines)
