"""`baton eval handoff DATA [--kb KB] --out DIR` (EVAL_FORMAT.md, handoff evaluation)."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "handoff", help="replay labelled conversations through the handoff detector"
    )
    add_replay_arguments(parser)
    parser.add_argument(
        "--out", required=True, help="folder for metrics.json, predictions.jsonl, report.html"
    )
    parser.set_defaults(func=handle)


def add_replay_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data", help="JSONL: one labelled conversation per line")
    parser.add_argument(
        "--kb", default=None, help="knowledge base to answer each user turn from (live confidence)"
    )
    parser.add_argument("--config", default=None, help="handoff TOML (default: handoff/defaults.toml)")
    parser.add_argument("--model", default=None, help="embedding model path or name (default: bundled)")
    parser.add_argument("--backend", choices=("auto", "onnx", "torch"), default="auto")
    add_typos_argument(parser)


def add_typos_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--typos",
        type=typo_rate,
        default=0.0,
        help="give this share of the words of every user message a typo (seeded; default 0: as written)",
    )


def typo_rate(value: str) -> float:
    """``--typos``: a share of words, 0..1."""
    try:
        rate = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not 0.0 <= rate <= 1.0:
        raise argparse.ArgumentTypeError(f"{rate} is not a share of words in 0..1")
    return rate


def handle(args: argparse.Namespace) -> int:
    from eval.build import build_replay
    from eval.evaluation import evaluate

    started = time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    replay = build_replay(args.data, args.kb, out, args.config, args.model, args.backend, typos=args.typos)
    result = evaluate(replay, out, started, data=args.data, kb=args.kb)
    headline = {
        key: result[key]
        for key in ("n", "precision", "recall", "f1", "false_escalation_rate", "reason_accuracy", "seconds")
    }
    headline["per_reason_recall"] = {k: round(v["recall"], 4) for k, v in result["per_reason"].items()}
    print(json.dumps(headline, indent=2))
    return 0
