"""The detector: analyses each user message once (patterns, sentiment, one batched embedding, the two
shipped models), runs the signals and hands their scores to the policy.

The engine calls ``decide`` on every bot turn, so work is cached by message text and a caller that
already embedded the last user turn (for retrieval) may pass that vector in.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import numpy as np

from handoff import policy, signals
from handoff.config import HandoffConfig
from handoff.features import analyse, embedding_order, frustration_inputs
from handoff.linear import SoftmaxModel
from handoff.policy import Decision
from handoff.sentiment import SentimentScorer
from handoff.signals import Message
from handoff.transcript import Transcript

MODELS = Path(__file__).with_name("data")
CACHE_SIZE = 20_000


class Detector:
    def __init__(self, config: HandoffConfig | None = None, embedder=None, *, models: Path = MODELS) -> None:
        if embedder is None:
            from knowledge import Embedder

            embedder = Embedder()
        self.config = config or HandoffConfig.load()
        self.embedder = embedder
        self.scorer = SentimentScorer(self.config.frustration.sentiment_model)
        self.requests = SoftmaxModel.load(models / "explicit_request.npz")
        self.frustration_model = SoftmaxModel.load(models / "frustration.npz")
        self._messages: OrderedDict[str, Message] = OrderedDict()

    def decide(self, transcript: Transcript, embedding: np.ndarray | None = None) -> Decision:
        """``embedding``: the last user turn's vector from the same embedder, if already computed."""
        return self.decide_many([transcript], None if embedding is None else [embedding])[0]

    def decide_many(
        self, transcripts: list[Transcript], embeddings: list[np.ndarray | None] | None = None
    ) -> list[Decision]:
        """Decide for many transcripts with one embedding batch for all their unseen user messages."""
        known: dict[str, np.ndarray] = {}
        if embeddings is not None:
            for transcript, vector in zip(transcripts, embeddings, strict=True):
                last = transcript.last_user()
                if last is not None and vector is not None:
                    known[last.text] = np.asarray(vector, dtype=np.float32)
        self.prepare([turn.text for t in transcripts for turn in t.turns if turn.role == "user"], known)
        return [self._decide(transcript) for transcript in transcripts]

    def prepare(self, texts: list[str], known: dict[str, np.ndarray] | None = None) -> None:
        """Analyse every text not seen yet; ``known`` holds vectors the caller already has."""
        fresh = [text for text in dict.fromkeys(texts) if text not in self._messages]
        if not fresh:
            return
        known = known or {}
        missing = sorted((text for text in fresh if text not in known), key=embedding_order)
        vectors = dict(known)
        if missing:
            vectors.update(zip(missing, self.embedder.encode(missing, batch_size=32), strict=True))
        embeddings = np.stack([vectors[text] for text in fresh])
        features = analyse(fresh, self.scorer)
        requests = self.requests.probabilities(embeddings)
        frustrated = self.frustration_model.probabilities(frustration_inputs(features, embeddings))
        human, contact = self.requests.column("human"), self.requests.column("contact")
        angry = self.frustration_model.column("frustrated")
        for i, text in enumerate(fresh):
            self._messages[text] = Message(
                features[i],
                embeddings[i],
                float(requests[i, human]),
                float(requests[i, contact]),
                float(frustrated[i, angry]),
            )
        while len(self._messages) > CACHE_SIZE:
            self._messages.popitem(last=False)

    def signals_for(self, transcript: Transcript) -> list[signals.SignalResult]:
        messages = [self._message(turn.text) for turn in transcript.turns if turn.role == "user"]
        last = messages[-1] if messages else None
        return [
            signals.explicit_request(last, transcript.current_confidence()),
            signals.rules(transcript, self.config),
            signals.frustration(transcript, messages, self.config),
            signals.low_confidence(transcript, last, self.config),
        ]

    def conclude(self, transcript: Transcript, results: list[signals.SignalResult]) -> Decision:
        """The policy's decision on signal results already computed for ``transcript``."""
        vip = bool(transcript.contact and transcript.contact.vip)
        return policy.decide(results, self.config, offered=transcript.offered, vip=vip)

    def _decide(self, transcript: Transcript) -> Decision:
        return self.conclude(transcript, self.signals_for(transcript))

    def _message(self, text: str) -> Message:
        message = self._messages.get(text)
        if message is None:
            self.prepare([text])
            message = self._messages[text]
        return message
