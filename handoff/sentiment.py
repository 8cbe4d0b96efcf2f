"""Sentiment of one message: VADER's lexicon (ships in a package, always offline) by default, or a
local transformers text-classification model where one is configured."""

from __future__ import annotations

from dataclasses import dataclass

# Words VADER reads as negative that visitors use to be polite ("sorry to bother you").
POLITE = {"sorry": 0.0, "bother": 0.0, "apologies": 0.0, "apologise": 0.0, "apologize": 0.0}


@dataclass(frozen=True)
class Sentiment:
    compound: float  # -1 (very negative) .. 1 (very positive)
    negative: float  # 0..1
    positive: float  # 0..1


class SentimentScorer:
    """``model`` empty: VADER. Otherwise a transformers model path (never downloaded) whose labels
    name a polarity (negative/positive, or star ratings)."""

    def __init__(self, model: str = "") -> None:
        self.model = model
        if model:
            from transformers import pipeline

            self._pipeline = pipeline("text-classification", model=model, top_k=None)
        else:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

            self._vader = SentimentIntensityAnalyzer()
            self._vader.lexicon.update(POLITE)

    def score_many(self, texts: list[str]) -> list[Sentiment]:
        if not self.model:
            return [self._from_vader(self._vader.polarity_scores(text)) for text in texts]
        return [self._from_labels(result) for result in self._pipeline(list(texts), truncation=True)]

    @staticmethod
    def _from_vader(scores: dict[str, float]) -> Sentiment:
        return Sentiment(compound=scores["compound"], negative=scores["neg"], positive=scores["pos"])

    @staticmethod
    def _from_labels(results: list[dict]) -> Sentiment:
        negative = sum(r["score"] for r in results if _polarity(r["label"]) < 0)
        positive = sum(r["score"] for r in results if _polarity(r["label"]) > 0)
        return Sentiment(compound=positive - negative, negative=negative, positive=positive)


def _polarity(label: str) -> int:
    label = label.lower()
    if label.startswith("neg") or label in ("1 star", "2 stars", "label_0"):
        return -1
    if label.startswith("pos") or label in ("4 stars", "5 stars", "label_2"):
        return 1
    return 0
