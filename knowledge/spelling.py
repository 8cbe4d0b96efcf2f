"""Typos in a visitor's question corrected toward the knowledge base's own words, before retrieval.

A sentence encoder splits an unknown word into pieces, so "activatd my crad" lands far from
"activate my card" and a question the knowledge base answers reads as out of scope: with one
typo in three words of each question, false escalations on the cross-domain bots went from 4% to
18% (docs/handoff.md). Customers type like that. A word is corrected only when

* it is neither a word of the knowledge base, nor a word the encoder knows whole (its tokenizer
  vocabulary), nor a word in common use (``wordfreq``: at least once per million words in English
  or one of the main European languages, so "wifi", "bake", "tarjeta" stay as typed), and
* one edit (a letter dropped, added, changed or two swapped) turns it into a word of the knowledge
  base that is at least 30 times as common as what was typed ("recieved" → "received"); among
  several, the one the knowledge base uses most.

Nothing else is touched: a question about something the knowledge base never mentions keeps its
words, so it still reads as unanswerable.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from wordfreq import zipf_frequency

LETTERS = "abcdefghijklmnopqrstuvwxyz"
MIN_LENGTH = 4  # shorter words have too many one-edit neighbours to guess from
WORD = re.compile(r"[^\W\d_]+")  # letters of any script; only plain a-z words are ever corrected
LANGUAGES = ("en", "es", "fr", "de", "pt", "it", "nl")  # a word common in any of them is not a typo
COMMON_ZIPF = 3.0  # Zipf scale: 3 is once per million words
GAIN_ZIPF = 1.5  # a correction is at least 10 ** 1.5 (about 30) times as common as the typed word
# Chat shorthands spelt out before the search: an encoder reads "how do i chg my addr" far from "how
# do i change my address" (cosine 0.30). Only unambiguous ones; a knowledge base that itself writes
# a shorthand keeps it (its examples say that is how its customers write).
SHORTHANDS = {
    "u": "you", "ur": "your", "pls": "please", "plz": "please", "thx": "thanks", "thnx": "thanks",
    "acct": "account", "acc": "account", "pwd": "password", "passwd": "password", "addr": "address",
    "pkg": "package", "txn": "transaction", "abt": "about", "msg": "message", "pmt": "payment",
    "amt": "amount", "qty": "quantity", "cust": "customer", "svc": "service", "ppl": "people",
    "cuz": "because", "coz": "because", "b4": "before", "tmrw": "tomorrow",
    "idk": "i don't know", "nvm": "never mind", "asap": "as soon as possible", "chg": "change",
    "im": "i'm", "cant": "can't", "dont": "don't", "doesnt": "doesn't", "didnt": "didn't",
    "isnt": "isn't", "wasnt": "wasn't", "havent": "haven't", "wheres": "where is", "whats": "what is",
    "hows": "how is", "theres": "there is",
}
SHORTHAND = re.compile(r"(?<![\w'])(?:" + "|".join(sorted(map(re.escape, SHORTHANDS), key=len, reverse=True))
                       + r")(?![\w'])", re.IGNORECASE)
CACHE_SIZE = 50_000  # corrections remembered per knowledge base (a server sees the same typos again)


def encoder_words(model_path: str | Path) -> frozenset[str]:
    """The whole words of a WordPiece tokenizer's vocabulary (``vocab.txt`` in the model folder),
    lower-cased; empty when the folder has none."""
    vocab = Path(model_path) / "vocab.txt"
    if not vocab.is_file():
        return frozenset()
    with open(vocab, encoding="utf-8") as handle:
        return frozenset(word for word in (line.strip().lower() for line in handle) if word.isalpha())


@lru_cache(maxsize=CACHE_SIZE)
def frequency(word: str) -> float:
    """How common ``word`` is on the Zipf scale (0 unseen, 3 once per million words, 7 "the"), in the
    language of :data:`LANGUAGES` where it is most common."""
    return max(zipf_frequency(word, language) for language in LANGUAGES)


def one_edit(word: str) -> set[str]:
    """Every string one deletion, transposition, replacement or insertion away from ``word``."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {left + right[1:] for left, right in splits if right}
    swaps = {left + right[1] + right[0] + right[2:] for left, right in splits if len(right) > 1}
    replaces = {left + letter + right[1:] for left, right in splits if right for letter in LETTERS}
    inserts = {left + letter + right for left, right in splits for letter in LETTERS}
    return (deletes | swaps | replaces | inserts) - {word}


class Speller:
    """Corrects a question's typos toward the words of ``texts`` (the knowledge base's titles,
    example questions and answers); ``known``: the encoder's whole words, never corrected (may be
    empty: the word frequencies still keep real words as typed)."""

    def __init__(self, texts: Iterable[str], known: frozenset[str]) -> None:
        self.counts = Counter(word.lower() for text in texts for word in WORD.findall(text))
        self.known = known
        self._cache: dict[str, str | None] = {}
        frequency("the")  # wordfreq reads its tables on first use (~0.5 s): now, not on a visitor's turn

    def word(self, word: str) -> str:
        """``word`` corrected, or as it was."""
        lower = word.lower()
        if len(lower) < MIN_LENGTH or not lower.isascii() or lower in self.counts or lower in self.known:
            return word
        if lower not in self._cache:
            if len(self._cache) >= CACHE_SIZE:
                self._cache.clear()
            self._cache[lower] = self._correction(lower)
        return self._cache[lower] or word

    def _correction(self, lower: str) -> str | None:
        near = [candidate for candidate in one_edit(lower) if candidate in self.counts]
        if not near:  # the common case, and cheap: no frequency is looked up
            return None
        typed = frequency(lower)
        if typed >= COMMON_ZIPF:
            return None
        candidates = [word for word in near if typed == 0.0 or frequency(word) >= typed + GAIN_ZIPF]
        # the most used in the knowledge base (the later alphabetically on a tie: stable)
        return max(candidates, key=lambda candidate: (self.counts[candidate], candidate), default=None)

    def shorthand(self, match: re.Match) -> str:
        typed = match.group(0)
        return typed if typed.lower() in self.counts else SHORTHANDS[typed.lower()]

    def __call__(self, text: str) -> str:
        """``text`` with its chat shorthands spelt out and its typos corrected."""
        if not self.counts:
            return text
        return WORD.sub(lambda match: self.word(match.group(0)), SHORTHAND.sub(self.shorthand, text))
