"""Typos added to the visitors' messages of an evaluation set (``--typos RATE``), to see how a
knowledge base fares on questions as customers type them rather than as a data set spells them.

Each word of four letters or more gets, with probability ``rate``, one edit of the kinds people
make (two inner letters swapped, one dropped, one doubled). The first and last letters stay. The
random draws are seeded by the conversation's id, so a run is repeatable and a conversation gets
the same typos whatever else is in the file. Only user turns change; labels stay.
"""

from __future__ import annotations

import random
from dataclasses import replace

from eval.conversations import Conversation

MIN_LETTERS = 4


def add_typos(text: str, rate: float, rng: random.Random) -> str:
    """``text`` with one edit in about ``rate`` of its words (whitespace is normalised to spaces)."""
    words = []
    for word in text.split():
        if len(word) >= MIN_LETTERS and word.isalpha() and rng.random() < rate:
            i = rng.randrange(1, len(word) - 1)  # never the first or the last letter
            kind = rng.randrange(3)
            if kind == 0:
                word = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
            elif kind == 1:
                word = word[:i] + word[i + 1 :]
            else:
                word = word[:i] + word[i] + word[i:]
        words.append(word)
    return " ".join(words)


def with_typos(conversations: list[Conversation], rate: float, seed: int = 0) -> list[Conversation]:
    """Copies of ``conversations`` whose user turns carry typos (``rate`` 0: the same objects)."""
    if rate <= 0:
        return conversations
    out = []
    for conversation in conversations:
        rng = random.Random(f"{seed}:{conversation.id}")
        turns = [
            replace(turn, text=add_typos(turn.text, rate, rng)) if turn.role == "user" else turn
            for turn in conversation.turns
        ]
        out.append(replace(conversation, turns=turns))
    return out
