"""The replay of EVAL_FORMAT.md: walk each conversation's user turns in order through the real
detector, with the file's bot turns as history and, with a knowledge base, the project's own answer
(and its live confidence) to every user turn.

Work is batched across conversations: every user message is analysed once up front (one embedding
batch for all), answers come from one batched retrieval, and decisions are taken in waves (the
k-th user turn of every conversation still open), because an offer at turn k changes turn k+1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from tqdm import tqdm

from eval.conversations import Conversation
from handoff import Detector, HandoffConfig, Transcript, Turn
from handoff.policy import Decision
from handoff.signals import SignalResult
from knowledge.followup import joined_is_better, may_join, read_in_context

# Answers the user turns: one bot Turn (text, confidence, meta) per question.
Answerer = Callable[[list[str]], list[Turn]]
CHUNK = 512


@dataclass
class TurnDecision:
    user_turn: int
    action: str
    reasons: list[str]
    scores: dict[str, float]
    explanation: str
    evidence: dict[str, list[str]]


@dataclass
class Result:
    conversation: Conversation
    decisions: list[TurnDecision] = field(default_factory=list)

    @property
    def escalated(self) -> TurnDecision | None:
        return next((d for d in self.decisions if d.action == "escalate"), None)

    @property
    def predicted(self) -> bool:
        return self.escalated is not None

    @property
    def turn(self) -> int | None:
        decision = self.escalated
        return None if decision is None else decision.user_turn

    def peak_scores(self) -> dict[str, float]:
        """Each signal's highest score over the replayed turns."""
        peaks: dict[str, float] = {}
        for decision in self.decisions:
            for name, value in decision.scores.items():
                peaks[name] = max(peaks.get(name, 0.0), value)
        return peaks


def knowledge_answerer(knowledge_base) -> Answerer:
    """Answers from a ``knowledge.KnowledgeBase``: the top passage, its confidence and the hits."""

    def answer(questions: list[str]) -> list[Turn]:
        turns = []
        for start in tqdm(range(0, len(questions), CHUNK), desc="answering", unit="chunk", leave=False):
            for retrieval in knowledge_base.retrieve_many(questions[start : start + CHUNK]):
                top = retrieval.hits[0] if retrieval.hits else None
                meta = {
                    "hits": [
                        {"doc_id": hit.chunk.doc_id, "title": hit.chunk.title, "score": round(hit.score, 4)}
                        for hit in retrieval.hits[:3]
                    ],
                    "similarity": round(retrieval.similarity, 4),
                }
                turns.append(
                    Turn(
                        role="bot",
                        text=top.chunk.text if top else "",
                        confidence=retrieval.confidence,
                        meta=meta,
                    )
                )
        return turns

    return answer


class Replay:
    """Prepared once (analysis and answers), then ``run`` under any configuration."""

    def __init__(
        self,
        conversations: list[Conversation],
        detector: Detector,
        answerer: Answerer | None = None,
        progress: bool = True,
    ) -> None:
        self.conversations = conversations
        self.detector = detector
        self.progress = progress
        self._positions = [conversation.replayed_user_turns() for conversation in conversations]
        texts = [
            conversation.turns[p].text
            for conversation, positions in zip(conversations, self._positions, strict=True)
            for p in positions
        ]
        unique = list(dict.fromkeys(texts))
        for start in tqdm(range(0, len(unique), CHUNK), desc="analysing", unit="chunk", disable=not progress):
            detector.prepare(unique[start : start + CHUNK])
        self._signals: dict[tuple[int, int], list[SignalResult]] = {}
        self._signal_settings: tuple | None = None
        self._answers: dict[str, Turn] = {}
        self._in_context: dict[tuple[int, int], Turn] = {}  # (conversation, turn position): a follow-up's
        if answerer is not None:
            self._answers = dict(zip(unique, answerer(unique), strict=True))
            self._answer_follow_ups(answerer)

    def _answer_follow_ups(self, answerer: Answerer) -> None:
        """As the bot does: a follow-up question too unsure alone is answered with the one it follows
        where that reading is surer (``knowledge.read_in_context``, ``joined_is_better``)."""
        readings: dict[tuple[int, int], str] = {}
        for index, conversation in enumerate(self.conversations):
            for p in self._positions[index]:
                turns = conversation.turns[:p]  # the questions the bot answered, as the bot reads them
                earlier = [turn.text for turn, after in zip(turns, turns[1:], strict=False)
                           if turn.role == "user" and after.role == "bot"]
                reading = read_in_context(conversation.turns[p].text, earlier)
                if reading is not None and may_join(self._answers[conversation.turns[p].text].confidence):
                    readings[(index, p)] = reading
        unique = list(dict.fromkeys(readings.values()))
        joined = dict(zip(unique, answerer(unique), strict=True)) if unique else {}
        for (index, p), reading in readings.items():
            alone = self._answers[self.conversations[index].turns[p].text]
            if joined_is_better(alone.confidence, joined[reading].confidence):
                self._in_context[(index, p)] = joined[reading]

    def answer(self, text: str) -> Turn | None:
        """The project's own answer to one user message read alone (None without a knowledge base)."""
        return self._answers.get(text)

    def answer_at(self, index: int, position: int) -> Turn | None:
        """The project's own answer to the user turn at ``position`` of conversation ``index``: read
        with the question it follows where the bot would."""
        found = self._in_context.get((index, position))
        return found or self._answers.get(self.conversations[index].turns[position].text)

    def user_texts(self, index: int) -> list[str]:
        """The replayed user messages of conversation ``index``, in order."""
        conversation = self.conversations[index]
        return [conversation.turns[p].text for p in self._positions[index]]

    def transcript(self, index: int, k: int, offered: bool) -> Transcript:
        """What the detector sees at the k-th replayed user turn of conversation ``index``."""
        conversation, positions = self.conversations[index], self._positions[index]
        turns: list[Turn] = []
        answered: Turn | None = None
        for position, turn in enumerate(conversation.turns[: positions[k] + 1]):
            if turn.role == "bot" and answered is not None:
                turn = Turn(
                    role="bot", text=turn.text, confidence=answered.confidence, meta=answered.meta, at=turn.at
                )
            turns.append(turn)
            answered = self.answer_at(index, position) if turn.role == "user" else None
        if self._answers:
            turns.append(self.answer_at(index, positions[k]))
        return Transcript(turns=turns, offered=offered)

    def run(self, config: HandoffConfig | None = None) -> list[Result]:
        previous = self.detector.config
        if config is not None:
            self.detector.config = config
        try:
            return self._run()
        finally:
            self.detector.config = previous

    def _run(self) -> list[Result]:
        results = [Result(conversation) for conversation in self.conversations]
        offered = [False] * len(results)
        open_ = [i for i, positions in enumerate(self._positions) if positions]
        waves = max((len(positions) for positions in self._positions), default=0)
        for k in tqdm(range(waves), desc="deciding", unit="turn", disable=not self.progress or waves < 2):
            open_ = [i for i in open_ if k < len(self._positions[i])]
            decisions = [self._decide(i, k, offered[i]) for i in open_]
            still_open = []
            for i, decision in zip(open_, decisions, strict=True):
                results[i].decisions.append(_turn_decision(k, decision))
                offered[i] = offered[i] or decision.action == "offer"
                if decision.action != "escalate":
                    still_open.append(i)
            open_ = still_open
        return results

    def _decide(self, index: int, k: int, offered: bool) -> Decision:
        """The detector's decision; signal scores are kept, since a sweep changes only thresholds."""
        settings = self.detector.config.signal_settings()
        if settings != self._signal_settings:
            self._signals.clear()
            self._signal_settings = settings
        transcript = self.transcript(index, k, offered)
        results = self._signals.get((index, k))
        if results is None:
            results = self._signals[(index, k)] = self.detector.signals_for(transcript)
        return self.detector.conclude(transcript, results)


def _turn_decision(k: int, decision: Decision) -> TurnDecision:
    return TurnDecision(
        user_turn=k,
        action=decision.action,
        reasons=list(decision.reasons),
        scores={name: round(value, 4) for name, value in decision.scores.items()},
        explanation=decision.explanation,
        evidence={signal.name: signal.evidence for signal in decision.signals if signal.evidence},
    )
