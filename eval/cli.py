"""`baton eval ...`: registered through the `baton.commands` entry point, so engine never imports eval.

Each evaluation lives in `eval/commands/<name>.py` and exposes ``register(subparsers)``.
"""

from __future__ import annotations

import argparse
import importlib

COMMAND_MODULES = ("retrieval", "handoff", "sweep", "cross", "export")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("eval", help="offline evaluation of retrieval and handoff decisions")
    commands = parser.add_subparsers(dest="eval_command", metavar="EVALUATION", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"eval.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"eval.commands.{name}":
                continue  # not built yet
            raise
        module.register(commands)
