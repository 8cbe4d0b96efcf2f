"""``--typos``: the typos added to an evaluation set's user messages, on hand-written text."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

from eval.conversations import Conversation
from eval.typos import add_typos, with_typos
from handoff import Turn


def test_every_word_gets_one_edit_at_rate_one_and_short_words_none():
    typed = add_typos("please activate my card", 1.0, random.Random(1))
    words = typed.split()
    assert len(words) == 4 and words[2] == "my"  # two letters: never touched
    for original, changed in zip(("please", "activate", "card"), (words[0], words[1], words[3]), strict=True):
        assert changed != original
        assert changed[0] == original[0] and changed[-1] == original[-1]  # first and last letter stay
        assert abs(len(changed) - len(original)) <= 1  # one edit: swapped, dropped or doubled
    assert add_typos("please activate my card", 0.0, random.Random(1)) == "please activate my card"
    # Ids and words with punctuation are left alone.
    words = add_typos("order LG-48291 now!", 1.0, random.Random(1)).split()
    assert words[0] != "order" and words[1:] == ["LG-48291", "now!"]


def test_only_user_turns_change_and_the_draws_follow_the_conversation():
    def conversation(id_: str) -> Conversation:
        turns = [Turn("user", "where is my parcel"), Turn("bot", "It is on its way."),
                 Turn("user", "thanks, that helps")]
        return Conversation(id_, turns, False, "none", None)

    first = with_typos([conversation("a"), conversation("b")], 1.0)
    alone = with_typos([conversation("b")], 1.0)
    assert first[1].turns == alone[0].turns  # the same typos whatever else is in the file
    assert first[0].turns[1].text == "It is on its way."  # bot turns as written
    assert first[0].turns[0].text != "where is my parcel" and first[0].escalate is False
    original = [conversation("a")]
    assert with_typos(original, 0.0) is original


def test_the_commands_refuse_a_rate_that_is_not_a_share(tmp_path: Path):
    baton = str(Path(sys.executable).with_name("baton"))
    data = tmp_path / "d.jsonl"
    data.write_text('{"id": "x", "turns": [{"role": "user", "text": "hi"}], "escalate": false, '
                    '"reason": "none", "escalate_turn": null}\n')
    for command in (["eval", "handoff", str(data), "--out", str(tmp_path / "o")],
                    ["eval", "cross", str(tmp_path), "--out", str(tmp_path / "o")]):
        run = subprocess.run([baton, *command, "--typos", "1.5"], capture_output=True, text=True, timeout=120)
        assert run.returncode == 2 and "--typos" in run.stderr and "0..1" in run.stderr
