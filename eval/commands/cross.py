"""`baton eval cross DIR --out OUT` (EVAL_FORMAT.md, many knowledge bases at once)."""

from __future__ import annotations

import argparse
import json
import sys

from eval.commands.handoff import add_typos_argument


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "cross",
        help="every bot of a folder (NAME_kb.jsonl + NAME_handoff.jsonl) beside a similarity baseline",
    )
    parser.add_argument(
        "dir", help="folder of bots: NAME_kb.jsonl with NAME_handoff.jsonl [NAME_retrieval.jsonl]"
    )
    parser.add_argument("--out", required=True, help="folder for cross.json, cross.md, report.html and NAME/")
    parser.add_argument("--config", default=None, help="handoff TOML (default: handoff/defaults.toml)")
    parser.add_argument("--model", default=None, help="embedding model path or name (default: bundled)")
    parser.add_argument("--backend", choices=("auto", "onnx", "torch"), default="auto")
    parser.add_argument(
        "--hindsight-fer",
        type=float,
        default=0.06,
        help="false-escalation cap of the hindsight diagnostic (each bot's best threshold on its own "
        "labels, shown apart from the figures; default 0.06)",
    )
    add_typos_argument(parser)
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from eval.cross import markdown, run_cross

    if not 0.0 <= args.hindsight_fer <= 1.0:
        print(f"--hindsight-fer: {args.hindsight_fer} is not a rate in 0..1", file=sys.stderr)
        return 2
    result = run_cross(
        args.dir, args.out, args.config, args.model, args.backend, args.hindsight_fer, typos=args.typos
    )
    print(markdown(result))
    print(
        json.dumps(
            {
                "mean": result["mean"]["baton"]["f1"],
                "worst": result["worst"]["baton"],
                "seconds": result["seconds"],
            }
        )
    )
    return 0
