"""`baton eval cross DIR --out OUT` (EVAL_FORMAT.md, many knowledge bases at once)."""

from __future__ import annotations

import argparse
import json


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
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from eval.cross import markdown, run_cross

    result = run_cross(args.dir, args.out, args.config, args.model, args.backend)
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
