"""``baton chat``: the terminal conversation loop against the real bot and test index."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from engine.cli.chat import converse
from engine.service.bot import Bot


def typed(lines: list[str]) -> Iterator[str]:
    yield from lines
    raise EOFError


def test_chat_answers_with_sources_and_stops_at_a_handoff(bot: Bot, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    keys = typed(["how long does shipping take?", "", "get me a human right now"])
    monkeypatch.setattr("builtins.input", lambda _prompt="": next(keys))
    assert asyncio.run(converse(bot, history_turns=12)) == 0
    out = capsys.readouterr().out
    assert "business days" in out and "source: How long does shipping take" in out
    assert "a person takes over here: explicit_request" in out
