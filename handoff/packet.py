"""The handoff packet: what a person needs when they take over, so the visitor never repeats
themselves: the problem in short, why the bot handed over (with evidence), what the bot tried, how
the visitor's mood went, and the details the visitor already gave."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

from handoff.lexicon import phatic
from handoff.policy import Decision
from handoff.sentiment import SentimentScorer
from handoff.transcript import Transcript

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<![\w#])\+?\d[\d ().-]{6,}\d(?!\w)")
ORDER = re.compile(
    r"(?:\b(?:order|purchase|invoice|ticket|case|booking|reference|ref|tracking|account)"
    r"\s*(?:number|no\.?|nr\.?|id)?\s*[:#]?\s*|#)([A-Z0-9][A-Z0-9-]{3,})\b",
    re.IGNORECASE,
)
SUMMARY_CHARS = 240


@dataclass
class Attempt:
    """One bot answer: what it said and what it drew on."""

    answer: str
    confidence: float | None
    articles: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Packet:
    summary: str
    action: str
    explanation: str
    reasons: list[dict[str, Any]]  # {name, score, evidence}
    attempts: list[Attempt]
    sentiment_trend: list[float]  # compound per user turn, oldest first
    entities: dict[str, list[str]]  # order_numbers, emails, phones
    user_turns: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@lru_cache(maxsize=1)
def _scorer() -> SentimentScorer:
    return SentimentScorer()


def build_packet(transcript: Transcript, decision: Decision, retrievals: list | None = None) -> Packet:
    """``retrievals``: ``knowledge.Retrieval`` objects of this conversation, if the caller has them
    (their hits are listed as the articles the bot tried for the latest answer)."""
    users = [turn.text for turn in transcript.turns if turn.role == "user"]
    by_name = {signal.name: signal for signal in decision.signals}
    reasons = [
        {
            "name": name,
            "score": round(decision.scores.get(name, 0.0), 3),
            "evidence": list(by_name[name].evidence) if name in by_name else [],
        }
        for name in decision.reasons
    ]
    attempts = [
        Attempt(turn.text[:SUMMARY_CHARS], turn.confidence, list(turn.meta.get("hits", [])))
        for turn in transcript.turns
        if turn.role == "bot"
    ]
    if retrievals and attempts:
        attempts[-1].articles = [
            {"doc_id": hit.chunk.doc_id, "title": hit.chunk.title, "score": round(hit.score, 3)}
            for retrieval in retrievals
            for hit in retrieval.hits[:3]
        ]
    text = "\n".join(users)
    orders = _unique(match.group(1) for match in ORDER.finditer(text))
    phones = (match.group(0).strip() for match in PHONE.finditer(EMAIL.sub(" ", ORDER.sub(" ", text))))
    entities = {
        "order_numbers": orders,
        "emails": _unique(EMAIL.findall(text)),
        "phones": _unique(phone for phone in phones if sum(char.isdigit() for char in phone) >= 8),
    }
    trend = [round(s.compound, 3) for s in _scorer().score_many(users)]
    return Packet(
        summary=summarise(users),
        action=decision.action,
        explanation=decision.explanation,
        reasons=reasons,
        attempts=attempts,
        sentiment_trend=trend,
        entities=entities,
        user_turns=len(users),
    )


def summarise(users: list[str]) -> str:
    """The visitor's first real question and, if different, their latest words, shortened."""
    substantive = [text.strip() for text in users if text.strip() and not phatic(text.lower())]
    if not substantive:
        return users[-1][:SUMMARY_CHARS] if users else ""
    first, last = substantive[0], substantive[-1]
    summary = first if first == last else f"{first} ... latest: {last}"
    return summary if len(summary) <= SUMMARY_CHARS else summary[: SUMMARY_CHARS - 3] + "..."


def _unique(values) -> list[str]:
    return list(dict.fromkeys(values))
