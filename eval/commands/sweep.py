"""`baton eval sweep DATA [--kb KB] --cost-missed 5 --cost-false 1 --write CONFIG`: search the
detector's thresholds for the lowest expected cost and write them into the configuration it reads."""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from eval.commands.handoff import add_replay_arguments


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("sweep", help="search handoff thresholds for the lowest expected cost")
    add_replay_arguments(parser)
    parser.add_argument("--cost-missed", type=float, default=5.0, help="cost of a missed handoff (default 5)")
    parser.add_argument(
        "--cost-false", type=float, default=1.0, help="cost of an unneeded handoff (default 1)"
    )
    parser.add_argument("--write", required=True, help="TOML file to write the chosen configuration to")
    parser.add_argument(
        "--holdout",
        action="store_true",
        help="tune on a random half and report the other half (the file written is the same)",
    )
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from eval.build import build_replay
    from eval.metrics import outcomes, summary
    from eval.sweep import held_out_summary, split, sweep

    with tempfile.TemporaryDirectory(prefix="baton-sweep-") as work:
        replay = build_replay(args.data, args.kb, Path(work), args.config, args.model, args.backend)
    start = replay.detector.config
    tune, held = split(len(replay.conversations)) if args.holdout else (None, None)
    result = sweep(replay, start, args.cost_missed, args.cost_false, subset=tune)
    result.config.save(args.write)
    report = {
        "cost_before": round(result.start_cost, 5),
        "cost_after": round(result.cost, 5),
        "steps": [{"setting": s, "value": v, "cost": round(c, 5)} for s, v, c in result.steps],
        "written": str(args.write),
    }
    chosen = summary(outcomes(replay.run(result.config)))
    report["all"] = {key: chosen[key] for key in ("n", "precision", "recall", "f1", "false_escalation_rate")}
    if held is not None:
        before, after = held_out_summary(replay, start, held), held_out_summary(replay, result.config, held)
        report["held_out_before"] = {key: before[key] for key in ("n", "f1", "false_escalation_rate")}
        report["held_out_after"] = {key: after[key] for key in ("n", "f1", "false_escalation_rate")}
    print(json.dumps(report, indent=2))
    return 0
