"""``baton chat``: talk to the bot in the terminal against the local index (no server, no database).

Shows each answer with its sources and the handoff decision, which is what the widget would do.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("chat", help="chat with the bot in the terminal (local index, no server)")
    parser.add_argument("--index", help="index folder (default: settings index_dir)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from engine.service.bot import Bot
    from engine.settings import get_settings
    from knowledge.errors import InputError

    settings = get_settings()
    if args.index:
        settings = settings.model_copy(update={"index_dir": Path(args.index)})
    if not (Path(settings.index_dir) / "manifest.json").exists():
        raise InputError("no knowledge index; build one with `baton ingest PATH`",
                         path=str(settings.index_dir))
    print("Chat with the bot (Ctrl-D to quit).")
    return asyncio.run(converse(Bot.load(settings), settings.history_turns))


async def converse(bot: Any, history_turns: int) -> int:
    from engine.service.bot import TurnInput

    history: list[tuple[str, str, float | None]] = []
    offered = False
    while True:
        try:
            question = (await asyncio.to_thread(input, "you> ")).strip()
        except EOFError:
            print()
            return 0
        if not question:
            continue
        history.append(("visitor", question, None))
        outcome = await bot.turn(TurnInput(conversation_id=0, state="bot", history=history[-history_turns:],
                                           offered=offered))
        reasons = ", ".join(outcome.reasons) or "none"
        if outcome.action == "escalate":
            print(f"bot> (a person takes over here: {reasons}; {outcome.explanation})")
            return 0
        print(f"bot> {outcome.text}")
        for citation in outcome.citations:
            source = citation.get("title") or citation.get("doc_id")
            print(f"     source: {source}  {citation.get('url') or ''}")
        if outcome.action == "offer":
            offered = True
            print(f"     [offered a person: {reasons}]")
        history.append(("bot", outcome.text, outcome.confidence))
