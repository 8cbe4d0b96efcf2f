"""Sentences that promise the visitor a person: "we will pass you to a person", "an agent will be
with you shortly", "a member of our team will review it".

A bot must never make that promise unless the handoff really happens (Chatwoot learnt this the
hard way: its assistant told customers they were being transferred while its handoff never ran,
because the words and the action were decided apart; chatwoot/chatwoot#13178 split the model's
reply from its ``action``). Baton keeps the two together after generation, whatever the model:

* a promise the cited knowledge-base passage makes itself (the help centre says a person handles
  damaged items) is kept, and the bot escalates for real (``Answer.handoff``);
* any other promise (a model's own "let me transfer you") is removed from the answer;
* in a draft for an operator, a person is already writing, so hand-over sentences are removed.

English patterns, matched on lower-cased text; each names a person (or our team) and a future or
ongoing hand-over, so "a member of our team reviews each report" (how a process works) and "contact
us" (an instruction) are not promises.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from knowledge.chunking import split_sentences

# Who would take over. Generic people are a hand-over from whoever writes; "our team" acting is a
# promise only when the bot writes (an operator is a member of the team).
PERSON = (r"(?:an? |one of our |our |the )?(?:real |live |human )?(?:person|human|people|agent|operator|"
          r"advis[eo]r|representative|rep|colleague|specialist|expert|staff member|team member|someone|"
          r"somebody)s?")
TEAM = (r"(?:an? |one of our |the )?(?:member of (?:our|the) (?:[a-z-]+ ){0,3}team|"
        r"(?:our|the) (?:[a-z-]+ ){0,3}(?:team|department|staff)|someone (?:from|in|on) (?:our|the) "
        r"(?:[a-z-]+ ){0,3}team)")
FUTURE = r"(?:will|'ll|shall|is going to|are going to|is about to)"
HAND = (r"(?:pass(?:ing)?|transfer(?:ring)?|connect(?:ing)?|put(?:ting)?|hand(?:ing)?|refer(?:ring)?|"
        r"forward(?:ing)?|escalat(?:e|ing)|rout(?:e|ing)|send(?:ing)?|get(?:ting)?|bring(?:ing)?)")
HANDED = r"(?:passed|transferred|connected|put|handed|referred|forwarded|escalated|routed|sent)"
OBJECT = r"(?:you|this|it|that|your (?:request|case|query|question|chat|conversation|claim|report))"
ACT = (r"(?:take (?:this |it |your \w+ )?over|take over|take (?:this|it) from here|review|look (?:into|at)|"
       r"contact you|reach out|get back to you|be in touch|call you|email you|follow up|handle|deal with|"
       r"pick (?:this|it) up|help you|assist you|join|reply|respond|be with you|be right with you|"
       r"open an investigation|check)")

_HANDOVER = [
    # "we will pass you to a person", "let me transfer you to an agent", "I'm connecting you with our team"
    rf"\b{HAND} {OBJECT}(?: over| through| across| on)? (?:to|with) (?:{PERSON}|{TEAM})\b",
    # "you are being transferred to an agent", "you'll be passed to our support team"
    rf"\b(?:you(?:'re| are| will be|'ll be| are being| have been|'ve been)|being|been) (?:now )?{HANDED}"
    rf"(?: over| through| on)? (?:to|with) (?:{PERSON}|{TEAM})\b",
    # "let me get a person", "I'm bringing in someone from our team"
    rf"\b(?:let me |i(?:'ll| will| am|'m) (?:going to )?|we(?:'ll| will| are|'re) (?:going to )?)"
    rf"(?:get|find|fetch|bring in|bringing in|getting|fetching|call in|calling in) {PERSON}\b",
    # "a person will take this over", "an agent will be with you shortly"
    rf"\b{PERSON} {FUTURE} (?:now |shortly |soon |then )?{ACT}\b",
]
_TEAM_ACTS = [rf"\b{TEAM} {FUTURE} (?:now |shortly |soon |then )?{ACT}\b"]
HANDOVER = re.compile("|".join(f"(?:{p})" for p in _HANDOVER))
PROMISE = re.compile("|".join(f"(?:{p})" for p in (*_HANDOVER, *_TEAM_ACTS)))
CLAUSE = re.compile(r"(?:,\s*(?:so|and so|and|which means|then)\s+|;\s*|\s+so\s+)")
CITATION = re.compile(r"\s*\[\d+\]")
TRAILING_CITATIONS = re.compile(r"(?:\s*\[\d+\])+\s*$")


@dataclass
class Guarded:
    """A text after the guard: what is left, and the sentences (or clauses) taken out."""

    text: str
    removed: list[str] = field(default_factory=list)


def promises(text: str) -> list[str]:
    """The sentences of ``text`` that promise a person, as written."""
    return [s for s in _sentences(text) if PROMISE.search(_plain(s))]


def promises_person(texts: Iterable[str]) -> bool:
    """Whether any of ``texts`` (knowledge-base passages) itself says a person takes over."""
    return any(PROMISE.search(_plain(text)) for text in texts)


def remove_promises(text: str, *, handover_only: bool = False) -> Guarded:
    """``text`` without its promises of a person. Where the promise is a trailing clause ("...,
    so we will pass you to a person") only the clause goes; otherwise the whole sentence.
    ``handover_only``: keep "our team will review it" (an operator writing is that team)."""
    pattern = HANDOVER if handover_only else PROMISE
    kept: list[str] = []
    removed: list[str] = []
    for sentence in _sentences(text):
        if not pattern.search(_plain(sentence)):
            kept.append(sentence)
            continue
        trimmed = _drop_clauses(sentence, pattern)
        if trimmed:
            kept.append(trimmed)
            removed.append(sentence)
        else:
            removed.append(sentence)
    text = " ".join(kept).strip()
    lost = [m for m in dict.fromkeys(CITATION.findall(" ".join(removed))) if m.strip() not in text]
    if text and lost:  # the passages a removed sentence cited still back what is left
        text += "".join(lost)
    return Guarded(text, removed)


def _drop_clauses(sentence: str, pattern: re.Pattern[str]) -> str:
    """The sentence without the clauses that match, or "" when the promise is its main clause."""
    tail = TRAILING_CITATIONS.search(sentence)
    citations = tail.group(0) if tail else ""
    body = sentence[: tail.start()] if tail else sentence
    body = body.rstrip()
    end = body[-1] if body and body[-1] in ".!?" else "."
    body = body.rstrip(".!? ")
    parts = CLAUSE.split(body)
    if len(parts) < 2 or pattern.search(_plain(parts[0])):
        return ""
    separators = CLAUSE.findall(body)
    out = parts[0]
    for separator, part in zip(separators, parts[1:], strict=True):
        if pattern.search(_plain(part)):
            break  # what follows the promise hangs on it ("..., so we will pass you, and then ...")
        out += separator + part
    return f"{out.rstrip(' ,;')}{end}{citations}"


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in split_sentences(text) if s.strip()]


def _plain(text: str) -> str:
    return " ".join(text.lower().replace("’", "'").split())
