"""What the signals read from one message: its patterns, cues and sentiment, computed once per text.

The detector sees the same user message on every later turn of a conversation, so these are
cached by text; the embedding of the message comes from the embedder alongside.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from handoff import lexicon
from handoff.sentiment import Sentiment, SentimentScorer

HAND_FEATURES = (
    "compound",
    "negative",
    "positive",
    "profanity",
    "says",
    "complaint",
    "shouting",
    "punctuation",
)
# Cue kinds the model's "says" feature stands for (the words of an unhappy visitor, aimed or not).
SAYS_KINDS = frozenset(("says", "persisting", "feeling", "waiting"))
# Hand features enter the frustration model beside a 384-d embedding; scaled up so that the shared
# L2 penalty does not drown them.
HAND_SCALE = 3.0


@dataclass(frozen=True)
class MessageFeatures:
    text: str
    canonical: str
    human: str | None  # words asking for a person
    contact: str | None  # words asking how to reach support
    cues: tuple[str, ...]  # readable frustration cues
    sentiment: Sentiment

    def hand_vector(self) -> np.ndarray:
        kinds = {cue.split(":")[0] for cue in self.cues}
        values = [
            self.sentiment.compound,
            self.sentiment.negative,
            self.sentiment.positive,
            bool(kinds & {"profanity", "insult"}),
            bool(kinds & SAYS_KINDS),
            "complaint" in kinds,
            "shouting" in kinds,
            "repeated punctuation" in kinds,
        ]
        return np.asarray(values, dtype=np.float64) * HAND_SCALE


def embedding_order(text: str) -> tuple[int, str]:
    """Sort key for texts to embed: shortest first (less padding per batch), ties by text, so the
    batches, and the int8 embeddings computed in them, are the same on every run."""
    return len(text), text


def analyse(texts: list[str], scorer: SentimentScorer) -> list[MessageFeatures]:
    sentiments = scorer.score_many(texts)
    out = []
    for text, sentiment in zip(texts, sentiments, strict=True):
        canonical = lexicon.canonical(text)
        out.append(
            MessageFeatures(
                text=text,
                canonical=canonical,
                human=lexicon.human_request(canonical),
                contact=lexicon.contact_request(canonical),
                cues=tuple(lexicon.frustration_cues(text, canonical)),
                sentiment=sentiment,
            )
        )
    return out


def frustration_inputs(features: list[MessageFeatures], embeddings: np.ndarray) -> np.ndarray:
    """The frustration model's input rows: the embedding, then the scaled hand features."""
    hand = (
        np.stack([item.hand_vector() for item in features]) if features else np.zeros((0, len(HAND_FEATURES)))
    )
    return np.hstack([embeddings.astype(np.float64), hand])
