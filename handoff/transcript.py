"""The conversation as the detector sees it: plain dataclasses, free of the database and the web."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

Role = Literal["user", "bot", "agent"]


@dataclass
class Turn:
    """One message. ``confidence`` is the answer confidence of a bot turn (None where unknown);
    ``at`` is when it was written (None where unknown), so the detector can see pauses."""

    role: Role
    text: str
    confidence: float | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    at: datetime | None = None


@dataclass
class ContactInfo:
    """What the configured rules may look at: VIP status, topics or tags, channel and language."""

    vip: bool = False
    topics: list[str] = field(default_factory=list)
    channel: str | None = None
    language: str | None = None

    @property
    def tags(self) -> list[str]:
        return self.topics


@dataclass
class Transcript:
    """The turns so far. The engine appends the bot's candidate answer (with its confidence) before
    asking the detector, so the last turn may be a bot turn answering the last user turn."""

    turns: list[Turn] = field(default_factory=list)
    contact: ContactInfo | None = None
    offered: bool = False

    def user_turns(self) -> list[Turn]:
        return [turn for turn in self.turns if turn.role == "user"]

    def bot_turns(self) -> list[Turn]:
        return [turn for turn in self.turns if turn.role == "bot"]

    def last_user(self) -> Turn | None:
        return next((turn for turn in reversed(self.turns) if turn.role == "user"), None)

    def pause_before_last_user(self) -> float | None:
        """Seconds between the last user turn and the turn before it, where both carry ``at``."""
        for position in range(len(self.turns) - 1, -1, -1):
            if self.turns[position].role == "user":
                if position == 0:
                    return None
                now, before = self.turns[position].at, self.turns[position - 1].at
                if now is None or before is None:
                    return None
                return (_utc(now) - _utc(before)).total_seconds()
        return None

    def answer_confidences(self) -> list[float]:
        """Confidences of the bot answers, oldest first (turns without one are left out)."""
        return [turn.confidence for turn in self.turns if turn.role == "bot" and turn.confidence is not None]

    def current_confidence(self) -> float | None:
        """Confidence of the answer to the last user turn, if the bot has one."""
        for turn in reversed(self.turns):
            if turn.role == "user":
                return None
            if turn.role == "bot" and turn.confidence is not None:
                return turn.confidence
        return None


def _utc(moment: datetime) -> datetime:
    """Times without a zone (as some databases return them) are UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
