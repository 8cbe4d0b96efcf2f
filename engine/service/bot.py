"""The bot's turn: retrieve, compose an answer, ask the detector; nothing here touches the store.

The conversation service reads a :class:`TurnInput`, calls :meth:`Bot.turn` outside any
transaction (model calls take milliseconds to seconds), then applies the :class:`BotOutcome` in a
transaction of its own. Retrieval and detection go through :class:`MicroBatcher`, so concurrent
turns share one embedding batch instead of queueing for the model one by one.

The visitor-turn pipeline calls :meth:`Bot.prefetch` with the question as it arrives, *before* the
message is stored: retrieval then runs beside the database write instead of after it, and
questions that arrive together reach the batcher together (rather than one by one, spaced out by
the writes that store them). :meth:`Bot.turn` picks the prefetched retrieval up by its text.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

import anyio.to_thread

from engine.service import routing_inputs

I = TypeVar("I")  # noqa: E741
O = TypeVar("O")  # noqa: E741

ROLE_TO_TURN = {"visitor": "user", "bot": "bot", "operator": "agent"}
PREFETCH_LIMIT = 512  # prefetched retrievals kept for their turns (one per question in flight)
PREFETCH_SECONDS = 30.0  # a prefetch no turn took by then is dropped (its message went to a person)
DECIDE_INLINE_SECONDS = 0.0005  # a detector call faster than this runs on the loop (MicroBatcher)
WITH_PERSON_LIMIT = 10_000  # conversations remembered as a person's (so not prefetched for)
# What the bot says to a message with no question in it ("hi", "thanks", "ok", a keyboard mash;
# ``handoff.small_talk``) that no passage answers with confidence of at least SMALL_TALK_UNDER: a
# reply in kind, not the passage that happened to come closest. It is no answer, so it carries no
# confidence and does not count in a streak of weak answers.
SMALL_TALK_UNDER = 0.5
SMALL_TALK = {
    "greeting": "Hello! What can I help you with today?",
    "thanks": "You're welcome! Is there anything else I can help with?",
    "goodbye": "Thanks for getting in touch. Have a good day!",
    "compliment": "Thank you, that's kind of you to say! Is there anything I can help with?",
    "acknowledgement": "Is there anything else I can help with?",
    "gibberish": "Sorry, I didn't catch that. Could you tell me in a few words what you need help with?",
}
# what the bot says with its offer of a person instead of its last answer word for word
NOTHING_NEW = "I'm afraid I don't have more on this than my last answer."


@dataclass(frozen=True)
class TurnInput:
    """A snapshot of the conversation for one turn: history as (role, text, confidence), oldest first,
    ending with the visitor's new message."""

    conversation_id: int
    state: str
    history: list[tuple[str, str, float | None]]
    vip: bool = False
    tags: list[str] = field(default_factory=list)
    channel: str = "web"
    offered: bool = False
    times: list[datetime | None] = field(default_factory=list)  # when each history message was written

    @property
    def question(self) -> str:
        return self.history[-1][1]


@dataclass
class BotOutcome:
    """What the bot wants to do; the service decides whether it still may (state can change meanwhile)."""

    action: str  # continue / offer / escalate
    text: str = ""
    citations: list[dict[str, Any]] = field(default_factory=list)
    confidence: float | None = None
    reasons: list[str] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)
    explanation: str = ""
    packet: dict[str, Any] | None = None

    @classmethod
    def escalation(cls, reason: str, explanation: str) -> BotOutcome:
        return cls(action="escalate", reasons=[reason], scores={reason: 1.0}, explanation=explanation,
                   packet={"summary": explanation, "reasons": [reason]})


class MicroBatcher(Generic[I, O]):
    """Calls ``fn_many(items)`` in a worker thread for everyone who asked while the previous call ran.

    A lone caller runs at once (no waiting window, so no added latency); under load, callers that
    arrive during a batch form the next one, up to ``max_batch``.

    ``inline_under`` (seconds): a lone caller whose calls have lately taken less than that runs on the
    event loop rather than in a thread. The detector's call is about 15 microseconds once a message's
    analysis is cached, against a few hundred of thread hop and GIL hand-offs (docs/scaling.md, the
    profile); a model that turns out slow (a configured sentiment model) goes back to the thread
    after its first slow call.
    """

    def __init__(self, fn_many: Callable[[list[I]], Sequence[O]], max_batch: int = 64,
                 inline_under: float = 0.0) -> None:
        self._fn_many = fn_many
        self.max_batch = max_batch
        self.inline_under = inline_under
        self._recent = float("inf")  # seconds of the latest lone call (unknown: in a thread first)
        self._pending: list[tuple[I, asyncio.Future[O]]] = []
        self._worker: asyncio.Task[None] | None = None
        self.batches: list[int] = []  # sizes of the batches run, for benchmarks and tests

    async def __call__(self, item: I) -> O:
        idle = not self._pending and (self._worker is None or self._worker.done())
        if idle and self._recent < self.inline_under:
            self.batches.append(1)
            started = time.thread_time()
            result = self._fn_many([item])[0]
            self._recent = time.thread_time() - started
            return result
        future: asyncio.Future[O] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch:]
            self.batches.append(len(batch))
            try:
                results, seconds = await anyio.to_thread.run_sync(self._timed, [item for item, _ in batch])
                if len(batch) == 1:
                    self._recent = seconds
            except Exception as exc:  # every caller of this batch sees the error
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    def _timed(self, items: list[I]) -> tuple[Sequence[O], float]:
        """``fn_many(items)`` and the CPU seconds it took in its own thread (not the hop, nor waits
        for the GIL: what it would cost the event loop)."""
        started = time.thread_time()
        results = self._fn_many(items)
        return results, time.thread_time() - started


class RecordingEmbedder:
    """The embedder, recording what it encodes in the current thread while asked to.

    Retrieval embeds the visitor's question; the detector needs the same question's vector. The bot
    hands the recorded vectors to the detector, so a turn costs one embedding, not two.
    """

    def __init__(self, embedder: Any) -> None:
        self._embedder = embedder
        self._local = threading.local()

    def encode(self, texts: list[str], *args: Any, **kwargs: Any) -> Any:
        vectors = self._embedder.encode(texts, *args, **kwargs)
        calls = getattr(self._local, "calls", None)
        if calls is not None:
            calls.append(vectors)
        return vectors

    @contextmanager
    def recording(self) -> Iterator[list[Any]]:
        self._local.calls = []
        try:
            yield self._local.calls
        finally:
            self._local.calls = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._embedder, name)


class Bot:
    """The knowledge base, the answer model and the handoff detector, wired for concurrent turns."""

    def __init__(self, knowledge_base: Any, detector: Any, embedder: RecordingEmbedder, *, model: str,
                 timeout: float = 20.0, desk_language: str = "en") -> None:
        self.knowledge_base = knowledge_base
        self.desk_language = desk_language  # Settings.desk_language: the handoff's language is another one
        self.detector = detector
        self.embedder = embedder
        self.model = model
        self.timeout = timeout
        self.retrieve = MicroBatcher(self._retrieve_many)
        self.decide = MicroBatcher(self._decide_many, inline_under=DECIDE_INLINE_SECONDS)
        self._prefetched: OrderedDict[str, tuple[float, asyncio.Future[tuple[Any, Any]]]] = OrderedDict()
        self._with_person: OrderedDict[int, None] = OrderedDict()  # their messages are drafted, not answered

    @classmethod
    def load(cls, settings: Any, embedder: Any | None = None) -> Bot:
        """Open the index folder and the detector configuration named in the settings, and warm
        every model so that the first visitor does not pay for loading them."""
        import handoff
        import knowledge

        if embedder is None:
            embedder = knowledge.Embedder(settings.embedding_model, backend=settings.embedding_backend)
        recording = RecordingEmbedder(embedder)
        knowledge_base = knowledge.KnowledgeBase(settings.index_dir, recording)
        detector = handoff.Detector(handoff.HandoffConfig.load(settings.handoff_config), embedder)
        bot = cls(knowledge_base, detector, recording, model=settings.llm_model,
                  timeout=settings.llm_timeout_seconds, desk_language=settings.desk_language)
        bot.warm()
        # the language models load beside the first visitors, not in front of the first handoff
        threading.Thread(target=routing_inputs.warm, name="language-models", daemon=True).start()
        return bot

    def warm(self) -> None:
        """Import the answer path (litellm takes seconds to import) and run each model once."""
        import handoff
        import knowledge

        knowledge.compose  # noqa: B018  (the lazy import is the point)
        [(retrieval, vector)] = self._retrieve_many(["hello"])
        self._decide_many([(handoff.Transcript(turns=[handoff.Turn(role="user", text=retrieval.query)]),
                            vector)])

    def _retrieve_many(self, questions: list[str]) -> list[tuple[Any, Any]]:
        """Retrievals with the question vectors retrieval computed (None where it cannot tell)."""
        with self.embedder.recording() as calls:
            retrievals = self.knowledge_base.retrieve_many(questions)
        if len(calls) == 1 and len(calls[0]) == len(questions):
            return list(zip(retrievals, calls[0], strict=True))
        return [(retrieval, None) for retrieval in retrievals]

    def _decide_many(self, items: list[tuple[Any, Any]]) -> list[Any]:
        return self.detector.decide_many([transcript for transcript, _ in items],
                                         [vector for _, vector in items])

    def prefetch(self, question: str, conversation_id: int) -> None:
        """Start retrieving ``question`` now (through the batcher) for the turn that will follow;
        returns at once. Not for a conversation last seen with a person (:meth:`person_has`): its
        message gets no turn, and its drafts can retrieve later, off the path of its delivery."""
        if conversation_id in self._with_person:
            return
        question = question.strip()
        now = time.monotonic()
        while self._prefetched:  # oldest first: drop what has expired or overflows the bound
            started, _ = next(iter(self._prefetched.values()))
            if now - started < PREFETCH_SECONDS and len(self._prefetched) < PREFETCH_LIMIT:
                break
            self._prefetched.popitem(last=False)
        if question and question not in self._prefetched:
            future = asyncio.ensure_future(self.retrieve(question))
            future.add_done_callback(_consume_error)  # the turn re-raises it; nobody else must log it
            self._prefetched[question] = (now, future)

    def person_has(self, conversation_id: int) -> None:
        """A person has the conversation (its message got no turn): stop prefetching for it until the
        bot takes a turn in it again."""
        self._with_person[conversation_id] = None
        self._with_person.move_to_end(conversation_id)
        while len(self._with_person) > WITH_PERSON_LIMIT:
            self._with_person.popitem(last=False)

    async def retrieved(self, question: str) -> tuple[Any, Any]:
        """(retrieval, question vector): the prefetched one of ``question`` if there is a fresh one
        (taken: a message is retrieved once, for its turn or for its drafts), else a new one
        through the batcher."""
        entry = self._prefetched.pop(question, None)
        if entry is not None and time.monotonic() - entry[0] < PREFETCH_SECONDS:
            return await entry[1]
        return await self.retrieve(question)

    async def retrieved_in_context(self, question: str, earlier: list[str]) -> tuple[Any, Any]:
        """:meth:`retrieved`, except that a follow-up ("and how long?") is looked up with the question
        it follows (``earlier``: :func:`answered_questions` before it) where the message alone is
        too unsure and that is surer (``knowledge.read_in_context``, ``knowledge.joined_is_better``);
        the answer model reads the follow-up itself with the history. The vector stays the message's
        own: the detector reads the message."""
        import knowledge

        retrieval, vector = await self.retrieved(question)
        reading = knowledge.read_in_context(question, earlier)
        if reading is not None and knowledge.may_join(retrieval.confidence):  # else: no second search
            joined, _ = await self.retrieve(reading)
            if knowledge.joined_is_better(retrieval.confidence, joined.confidence):
                retrieval = joined
        return retrieval, vector

    async def turn(self, snapshot: TurnInput, *, accepted_offer: bool = False) -> BotOutcome:
        import handoff
        import knowledge

        self._with_person.pop(snapshot.conversation_id, None)  # the bot's again: prefetch its questions
        question = snapshot.question
        times = snapshot.times or [None] * len(snapshot.history)
        turns = [handoff.Turn(role=ROLE_TO_TURN[role], text=text, confidence=confidence, at=at)
                 for (role, text, confidence), at in zip(snapshot.history, times, strict=True)
                 if role in ROLE_TO_TURN]
        earlier = answered_questions(snapshot.history[:-1])
        retrieval, vector = await self.retrieved_in_context(question, earlier)
        answer = await knowledge.compose(question, retrieval, turns[:-1], model=self.model,
                                         timeout=self.timeout)
        # the detector judges the candidate answer too: it is the transcript's last turn
        turns.append(handoff.Turn(role="bot", text=answer.text, confidence=answer.confidence))
        transcript = handoff.Transcript(
            turns=turns, offered=snapshot.offered,
            contact=handoff.ContactInfo(vip=snapshot.vip, topics=snapshot.tags, channel=snapshot.channel),
        )
        if accepted_offer:
            decision = handoff.Decision(action="escalate", reasons=["explicit_request"],
                                        scores={"explicit_request": 1.0},
                                        explanation="the visitor accepted the offer of a person", signals=[])
        else:
            decision = await self.decide((transcript, vector))
        if answer.handoff and decision.action != "escalate":
            # the help article says a person takes this over: keep that promise for real
            why = f'the article "{answer.handoff_source}" says a person takes this over'
            decision = handoff.Decision(
                action="escalate", reasons=["rule", *decision.reasons],
                scores={**decision.scores, "rule": 1.0}, explanation=f"hand over to a person: {why}",
                signals=[handoff.SignalResult("rule", 1.0, [why]), *decision.signals])
        text, citations, confidence = answer.text, answer.citations, float(answer.confidence)
        kind = handoff.small_talk(question) if decision.action == "continue" and \
            confidence < SMALL_TALK_UNDER else None
        if kind is not None:
            text, citations, confidence = SMALL_TALK[kind], [], None
        said = transcript.bot_turns()[:-1]  # what the bot said before this answer
        if decision.action == "offer" and said and handoff.same_answer(text, said[-1].text) and \
                not handoff.surer(turns[-1], said[-1]):
            text = NOTHING_NEW  # the same passage again helps nobody; the offer of a person may
        packet = None
        if decision.action == "escalate":
            packet = handoff.build_packet(transcript, decision).to_dict()
            # topics from the whole transcript and the entries it touched, and the language it is
            # written in: routing matches them to operators' and teams' skills
            await routing_inputs.annotate(packet, self, [t.text for t in turns if t.role == "user"],
                                          retrieval)
        return BotOutcome(
            action=decision.action, text=text,
            citations=[{"doc_id": c.doc_id, "chunk_id": c.chunk_id, "title": c.title, "url": c.url,
                        "score": float(c.score)} for c in citations],
            confidence=confidence, reasons=list(decision.reasons),
            scores={k: float(v) for k, v in decision.scores.items()}, explanation=decision.explanation,
            packet=packet,
        )


def answered_questions(turns: Sequence[tuple[str, str, float | None]]) -> list[str]:
    """The visitor's messages the bot answered from the knowledge base (its next message carried a
    confidence), oldest first: what a follow-up question can lean on. "thanks" (answered in kind)
    and "I want a person" (handed over) cannot."""
    return [text for (role, text, _), (next_role, _, confidence) in zip(turns, turns[1:], strict=False)
            if role == "visitor" and next_role == "bot" and confidence is not None]


def _consume_error(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()
