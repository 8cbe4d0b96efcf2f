"""The handoff packet: what a person needs when they take over, so the visitor never repeats
themselves: what the visitor needs (the problem, the details they gave, what they already tried),
why the bot handed over (with evidence), what the bot said to them, and how their mood went.

Two rules keep it honest for the operator who reads it:

* every number says what it measures, and the same fact is never shown twice on opposite scales:
  a weak answer is reported by its answer confidence (higher is a better answer), the other
  reasons by their strength (higher calls more strongly for a person), never "score 0.96" beside
  "confidence 0.04";
* "what the bot tried" is what the visitor saw. On escalation the bot's candidate answer to the
  last message is not sent (the visitor is told a person is coming instead), so it is not listed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

from handoff.lexicon import COMPLAINT, UNHELPFUL, canonical, human_request, phatic
from handoff.policy import Decision
from handoff.sentiment import SentimentScorer
from handoff.transcript import Transcript, Turn

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<![\w#])\+?\d[\d ().-]{6,}\d(?!\w)")
ORDER = re.compile(
    r"(?:\b(?:order|purchase|invoice|ticket|case|booking|reference|ref|tracking|account)"
    r"\s*(?:number|no\.?|nr\.?|id)?\s*[:#]?\s*|#)((?=[A-Z-]*\d)[A-Z0-9][A-Z0-9-]{3,})\b",
    re.IGNORECASE,
)
CODE = re.compile(r"\b[A-Z]{1,4}-\d{4,}\b")  # "LG-482913": a reference even without the word "order"
TRIED = re.compile(
    r"\b(?:i(?:'ve| have)?|we(?:'ve| have)?) (?:already |just |also )?(?:tried|checked|restarted|rebooted|"
    r"reset|reinstalled|cleared|updated|followed|contacted|called|emailed|asked|looked|waited|searched|"
    r"turned it off|unplugged)\b|\balready (?:tried|checked|did|done)\b|\bi did that\b|\bdone that\b"
)
SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
WORD = re.compile(r"[a-z0-9']+")
ENTITY_NAMES = {"order_numbers": "order", "emails": "email", "phones": "phone"}
SUMMARY_CHARS = 400
PROBLEM_CHARS = 240
LABELS = {"explicit_request": "Asked for a person", "frustration": "Frustrated with the service",
          "low_confidence": "No good answer in the knowledge base", "rule": "Handled by a person by rule"}


@dataclass
class Attempt:
    """One bot answer the visitor saw: what it said and what it drew on."""

    answer: str
    confidence: float | None
    articles: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Reason:
    """Why a person: ``value`` is the ``measure`` named (see the module docstring)."""

    name: str
    label: str
    measure: str  # "answer confidence" (higher = better answer) or "strength" (higher = more need)
    value: float | None
    evidence: list[str]


@dataclass
class Packet:
    summary: str  # one paragraph: the problem, details given, what was tried, a person asked for
    problem: str
    tried: list[str]  # what the visitor says they already did
    action: str
    explanation: str
    reasons: list[Reason]
    attempts: list[Attempt]
    sentiment_trend: list[float]  # compound per user turn, oldest first
    entities: dict[str, list[str]]  # order_numbers, emails, phones
    asked_for_person: bool
    user_turns: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@lru_cache(maxsize=1)
def _scorer() -> SentimentScorer:
    return SentimentScorer()


def build_packet(transcript: Transcript, decision: Decision) -> Packet:
    users = [turn.text for turn in transcript.turns if turn.role == "user"]
    need = read_need(users)
    return Packet(
        summary=need.summary(),
        problem=need.problem,
        tried=need.tried,
        action=decision.action,
        explanation=decision.explanation,
        reasons=reasons(transcript, decision),
        attempts=[Attempt(turn.text[:PROBLEM_CHARS], turn.confidence, list(turn.meta.get("hits", [])))
                  for turn in seen_answers(transcript, decision)],
        sentiment_trend=[round(s.compound, 3) for s in _scorer().score_many(users)],
        entities=need.entities,
        asked_for_person=need.asked_for_person,
        user_turns=len(users),
    )


def reasons(transcript: Transcript, decision: Decision) -> list[Reason]:
    by_name = {signal.name: signal for signal in decision.signals}
    out = []
    for name in decision.reasons:
        evidence = list(by_name[name].evidence) if name in by_name else []
        if name == "low_confidence":
            confidence = transcript.current_confidence()
            out.append(Reason(name, LABELS[name], "answer confidence",
                              None if confidence is None else round(confidence, 3), evidence))
        else:
            out.append(Reason(name, LABELS.get(name, name.replace("_", " ")), "strength",
                              round(decision.scores.get(name, 0.0), 3), evidence))
    return out


def seen_answers(transcript: Transcript, decision: Decision) -> list[Turn]:
    """The bot turns the visitor saw: all of them, except, on escalation, the candidate answer to
    the last user message (the engine sends the visitor a notice instead)."""
    bots = [i for i, turn in enumerate(transcript.turns) if turn.role == "bot"]
    last_user = max((i for i, turn in enumerate(transcript.turns) if turn.role == "user"), default=-1)
    unsent = {i for i in bots if i > last_user} if decision.action == "escalate" else set()
    return [transcript.turns[i] for i in bots if i not in unsent]


@dataclass
class Need:
    problem: str
    tried: list[str]
    entities: dict[str, list[str]]
    asked_for_person: bool

    def summary(self) -> str:
        parts = [self.problem if self.problem[-1] in ".!?" else self.problem + "."] if self.problem else []
        given = [f"{ENTITY_NAMES[kind]} {value}"
                 for kind, values in self.entities.items() for value in values]
        if given:
            parts.append("Gave: " + ", ".join(given) + ".")
        if self.tried:
            parts.append("Already tried: " + _joined(self.tried))
        if self.asked_for_person:
            parts.append("Asked for a person.")
        text = " ".join(parts)
        return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 3].rstrip() + "..."


def read_need(users: list[str]) -> Need:
    """What the visitor needs, from their own words: each sentence is a greeting (dropped), a
    request for a person or a complaint about the bot with nothing else in it (noted, not the
    problem), something they already tried, or part of the problem. The problem is the first such
    sentence and the later ones that add something new."""
    problem: list[str] = []
    tried: list[str] = []
    asked = False
    for text in users:
        for sentence in (s.strip() for s in SENTENCE.split(text)):
            plain = canonical(sentence)
            if not sentence or phatic(plain):
                continue
            rest = canonical(_without_entities(sentence))
            while request := human_request(rest):  # "call me ..., I want a human": every request
                asked = True
                rest = rest.replace(request, " ")
            for found in (*UNHELPFUL.finditer(rest), *COMPLAINT.finditer(rest)):
                rest = rest.replace(found.group(0), " ")
            if len(_content(rest)) < 2:
                continue
            if TRIED.search(plain):
                tried.append(sentence)
            elif not any(_same(sentence, earlier) for earlier in problem):
                problem.append(sentence)
    text = "\n".join(users)
    orders = _unique([*(m.group(1) for m in ORDER.finditer(text)), *CODE.findall(text)])
    phones = (m.group(0).strip() for m in PHONE.finditer(_without_entities(text, phones=False)))
    entities = {
        "order_numbers": orders,
        "emails": _unique(EMAIL.findall(text)),
        "phones": _unique(phone for phone in phones if sum(char.isdigit() for char in phone) >= 8),
    }
    return Need(_shorten(_joined(problem), PROBLEM_CHARS), tried, entities, asked)


STOP = frozenset({
    "a", "an", "the", "i", "i'm", "me", "my", "we", "our", "you", "your", "it", "is", "are", "was", "were",
    "be", "to", "of", "and", "or", "in", "on", "at", "for", "with", "this", "that", "please", "can", "could",
    "would", "will", "do", "does", "did", "have", "has", "had", "so", "just", "not", "no", "yes", "hi",
    "hello", "hey", "here", "there", "number"})


def _without_entities(text: str, *, phones: bool = True) -> str:
    text = EMAIL.sub(" ", CODE.sub(" ", ORDER.sub(" ", text)))
    return PHONE.sub(" ", text) if phones else text


def _content(text: str) -> list[str]:
    return [word for word in WORD.findall(text) if word not in STOP and not word.isdigit()]


def _same(a: str, b: str) -> bool:
    """A repeat: most of the shorter sentence's content words are in the other."""
    first, second = set(_content(canonical(a))), set(_content(canonical(b)))
    small = min(len(first), len(second))
    return small > 0 and len(first & second) / small >= 0.7


def _joined(sentences: list[str]) -> str:
    """The visitor's sentences in a row, each but the last given a full stop if they typed none
    (chat rarely has them)."""
    ended = [s if s[-1] in ".!?" else s + "." for s in sentences[:-1]]
    return " ".join([*ended, *sentences[-1:]])


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))
