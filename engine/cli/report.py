"""``baton report``: support metrics over a window, as a readable table or JSON."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.service.metrics import Metrics, Rate, TimeStats


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("report", help="support metrics (response and resolution times, CSAT, "
                                   "containment, handoffs, drafts) over a window")
    parser.add_argument("--start", help="ISO date or datetime (UTC unless given); default: 7 days before end")
    parser.add_argument("--end", help="ISO date or datetime; default: now")
    parser.add_argument("--json", action="store_true", help="print the metrics as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from engine.db import make_engine
    from engine.service import metrics
    from engine.settings import get_settings

    start, end = metrics.parse_window(args.start, args.end)
    engine = make_engine(get_settings().database_url)
    try:
        with Session(engine) as session:
            result = metrics.compute(session, start, end)
    finally:
        engine.dispose()
    print(result.model_dump_json(indent=2) if args.json else render(result))
    return 0


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s"


def share(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _times(label: str, stats: TimeStats) -> tuple[str, str, str]:
    return (label, f"median {duration(stats.median)}, p90 {duration(stats.p90)}, mean {duration(stats.mean)}",
            f"{stats.count} conversations")


def _rate(label: str, rate: Rate) -> tuple[str, str, str]:
    return label, share(rate.rate), f"{rate.count} of {rate.total}"


def render(m: Metrics) -> str:
    """The metrics as an aligned three-column table."""
    rows = [
        ("Conversations", str(m.conversations), f"{m.start:%Y-%m-%d %H:%M} to {m.end:%Y-%m-%d %H:%M} UTC"),
        _times("First response", m.first_response),
        _times("Resolution", m.resolution),
        ("CSAT", "-" if m.csat.mean is None else f"{m.csat.mean:.2f} / 5",
         f"{share(m.csat.satisfied_share)} rated 4-5, {m.csat.count} ratings"),
        _rate("First-contact resolution", m.first_contact_resolution),
        _rate("Bot containment", m.bot_containment),
        _rate("Handoff rate", m.handoff),
        *[_rate(f"  {reason}", rate) for reason, rate in m.handoff_by_reason.items()],
        ("Draft acceptance", share(m.drafts.acceptance),
         f"{m.drafts.used} of {m.drafts.created} used ({m.drafts.started} started from), "
         f"mean edit {share(m.drafts.mean_edit_ratio)}"),
        *[_rate(f"  {kind}", rate) for kind, rate in m.drafts.by_kind.items()],
        ("Conversations per operator", "", ""),
        *[(f"  {o.name or o.operator_id}", str(o.conversations), "") for o in m.per_operator],
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    return "\n".join(f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c}".rstrip() for a, b, c in rows)
