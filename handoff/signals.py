"""The signals: each scores the transcript so far in 0..1 and says why in words a person can read.

They are pure functions of the transcript, the configuration and the per-message analysis the
detector prepared (``Message``: patterns, sentiment, model probabilities and the embedding), so
the same message is never analysed twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from handoff.config import HandoffConfig
from handoff.features import MessageFeatures
from handoff.lexicon import (
    acknowledgement,
    apologetic,
    dislike,
    feeling_elsewhere,
    gibberish,
    phatic,
    service_target,
)
from handoff.transcript import Transcript, Turn
from knowledge.followup import leans_on_earlier

REPEAT_BONUS = 0.25
OWN_THING = re.compile(r"\b(?:my|our)\b")
PAUSE_BONUS = 0.2  # the repeat comes after a long silence: the visitor tried, and is back
REPEAT_MIN_WORDS = 4  # "haven't seen it" twice is an answer, not the visitor repeating a question
BOT_REPEAT_BONUS = 0.2
TREND_BONUS = 0.1
TREND_DROP = 0.5
# Explicit-request score: a pattern asking for a person, a question how to reach support.
PERSON_SCORE = 0.95
CONTACT_SCORE = 0.5
CONTACT_UNANSWERED = 0.8
CONTACT_ANSWERED = 0.5
PHATIC_DAMPING = 0.3
# The request model alone (no pattern matched) counts for less: it reads topics, not intent.
MODEL_WEIGHT = 0.7
# Frustration floor for cues that on their own justify a person; ``OFFER_FLOOR`` for a problem
# report that is not (yet) aimed at the bot ("my transfer still hasn't arrived", first message).
CUE_FLOOR = 0.65
OFFER_FLOOR = 0.5
# Weight of VADER's polarity beside the frustration model in one message's score.
SENTIMENT_WEIGHT = 0.5
APOLOGY_DAMPING = 0.7
# Negative words with nothing in the message aiming them at the service ("they're scary", "hated
# Event Horizon") are a mood or a taste: at most an offer, and a stated dislike weighs less still.
UNAIMED_CAP = 0.5
FIRST_MESSAGE_CAP = 0.4  # below the offer: a first message without a cue is just the question
# "it still doesn't work" in a few words after an answer is about the answer; in a long message it
# is as often about a film or a product.
SHORT_WORDS = 10
DISLIKE_DAMPING = 0.6
# Cues that on an opening message describe the problem itself rather than the visitor's patience.
PROBLEM_CUES = frozenset({"persisting", "repeated punctuation"})


@dataclass
class SignalResult:
    name: str
    score: float
    evidence: list[str]
    model_only: bool = False  # no pattern named the words: the score is a model's reading alone


@dataclass
class Message:
    """One user message as the signals read it."""

    features: MessageFeatures
    embedding: np.ndarray
    p_human: float  # request model: asks for a person
    p_contact: float  # request model: asks how to reach support
    p_frustrated: float  # frustration model


def low_confidence(transcript: Transcript, last: Message | None, config: HandoffConfig) -> SignalResult:
    """1 - the answer's confidence; after ``streak`` answers in a row, the weakest of them times
    ``streak_factor`` (several weak answers weigh more than one)."""
    settings = config.low_confidence
    confidence = transcript.current_confidence()
    if confidence is None:
        return SignalResult("low_confidence", 0.0, [])
    score = 1.0 - confidence
    evidence = [f"answer confidence {confidence:.2f}"]
    if last is not None and acknowledgement(last.features.canonical):
        score *= PHATIC_DAMPING
        evidence.append("no question to answer (greeting, thanks or yes/no)")
        return SignalResult("low_confidence", round(score, 4), evidence)
    if last is not None and gibberish(last.features.text):
        score *= PHATIC_DAMPING
        evidence.append("nothing to answer (no words, or only a keyboard mash): the bot asks again")
        return SignalResult("low_confidence", round(score, 4), evidence)
    recent = transcript.answer_confidences()[-settings.streak :]
    if settings.streak > 1 and len(recent) == settings.streak:
        sustained = (1.0 - max(recent)) * settings.streak_factor
        if sustained > score:
            score = min(sustained, 1.0)
            if sustained >= settings.offer_at:  # named only where it decides: (0.83, 0.86) is no weak streak
                evidence.append(
                    f"{settings.streak} weak answers in a row ({', '.join(f'{v:.2f}' for v in recent)})"
                )
    return SignalResult("low_confidence", round(score, 4), evidence)


def explicit_request(last: Message | None, confidence: float | None = None) -> SignalResult:
    """A person asked for: the patterns first (they name the words), the request model otherwise.

    Asking how to reach support ("customer care", "helpline number") is answered where the
    knowledge base has the contact details (``confidence``, the answer's, at ``CONTACT_ANSWERED``
    or more: the bot answers and offers a person); where it has not, the visitor wants a person and
    gets one.
    """
    if last is None:
        return SignalResult("explicit_request", 0.0, [])
    model = MODEL_WEIGHT * (last.p_human + 0.5 * last.p_contact)
    if last.features.human:
        return SignalResult(
            "explicit_request", max(PERSON_SCORE, model), [f'asks for a person: "{last.features.human}"']
        )
    if last.features.contact:
        words = f'asks how to reach support: "{last.features.contact}"'
        if confidence is not None and confidence >= CONTACT_ANSWERED:
            return SignalResult("explicit_request", CONTACT_SCORE, [words, f"answered ({confidence:.2f})"])
        return SignalResult("explicit_request", CONTACT_UNANSWERED, [words, "nothing in the knowledge base"])
    if phatic(last.features.canonical):  # "talk soon" is a goodbye (the model read it at 0.81)
        model *= PHATIC_DAMPING
    evidence = [f"reads like a request for a person (model {last.p_human:.2f})"] if model >= 0.3 else []
    return SignalResult("explicit_request", round(model, 4), evidence, model_only=True)


def aimed_at_service(message: Message) -> bool:
    """The message names the bot or the service, or says their answers do not help."""
    kinds = {cue.split(":")[0] for cue in message.features.cues}
    return service_target(message.features.canonical) is not None or bool(kinds & {"says", "complaint"})


def message_frustration(message: Message, answered: bool = False) -> float:
    """One message: the frustration model blended with VADER's polarity (the lexicon carries over
    to text unlike the model's training phrases), read against what the message is about.

    Negative sentiment counts in full only when the message is aimed at the bot or the service (it
    names them, or says their answer does not help); a product or a film the visitor dislikes is not
    a grievance. Cues raise the score to a floor: a complaint or words about the bot always; angry
    words, profanity and shouting when aimed at the service; "it still doesn't work" once the bot has
    ``answered`` (on a first message it is the problem itself, worth an offer when aimed).
    """
    features = message.features
    compound = features.sentiment.compound
    kinds = {cue.split(":")[0] for cue in features.cues}
    target = service_target(features.canonical) is not None
    # a feeling about something else ("terrible weather today, is my parcel delayed?" names a parcel,
    # but the feeling is the weather's) reads like a taste, even where the message names the service
    elsewhere = kinds == {"feeling"} and feeling_elsewhere(features.canonical)
    taste = (elsewhere or dislike(features.canonical) is not None) and not kinds & {"says", "complaint"}
    aimed = aimed_at_service(message) and not elsewhere
    score = (1.0 - SENTIMENT_WEIGHT) * message.p_frustrated + SENTIMENT_WEIGHT * (1.0 - compound) / 2.0
    if not aimed:
        score = min(score, UNAIMED_CAP)
    if not features.cues and (not answered or not aimed or leans_on_earlier(features.text)):
        # a first message with no cue at all ("why did my transfer fail?", "cancel"), a message that
        # names nothing of the service and has no cue ("looking for some scary movies", "Hated Event
        # Horizon"), or a follow-up question on the answer ("what about Australia?"): the model and
        # the lexicon read the topic's tone, not the visitor's patience
        score = min(score, FIRST_MESSAGE_CAP)
    if taste:
        score *= DISLIKE_DAMPING
    if not features.cues and apologetic(features.canonical):
        score *= APOLOGY_DAMPING
    floor = 0.0
    if kinds & {"complaint", "says"}:
        floor = CUE_FLOOR
    if target and not taste and kinds & {"feeling", "shouting"}:
        floor = CUE_FLOOR
    if "profanity" in kinds and compound < 0.5 and not taste:
        floor = CUE_FLOOR  # swearing at all in a support chat ("where is my damn refund")
    if "insult" in kinds and compound < 0.3 and aimed and not taste:
        floor = CUE_FLOOR
    if not answered and kinds == {"waiting"}:
        # "??" or "hello?" before the bot has said anything: nothing has kept the visitor waiting
        score = min(score, FIRST_MESSAGE_CAP)
    if not answered and kinds <= PROBLEM_CUES:
        # "still waiting on a refund", "why did my payment not work" as the opening message: the
        # problem being reported, not impatience with the bot (which has not answered yet)
        score = min(score, OFFER_FLOOR)
    if "persisting" in kinds:
        short = len(features.canonical.split()) <= SHORT_WORDS
        floor = max(floor, CUE_FLOOR if answered and (target or short) else OFFER_FLOOR if target else 0.0)
    if "waiting" in kinds and answered:
        floor = max(floor, OFFER_FLOOR)
    return max(score, floor)


def frustration(transcript: Transcript, messages: list[Message], config: HandoffConfig) -> SignalResult:
    """The last message's frustration, sustained frustration over the window, the visitor repeating
    themselves (more so after a long silence: they tried the answer and are back), "hello?" after
    a long wait, the bot repeating its answer and a falling sentiment."""
    if not messages:
        return SignalResult("frustration", 0.0, [])
    settings = config.frustration
    last = messages[-1]
    pause = transcript.pause_before_last_user()
    kinds = {cue.split(":")[0] for cue in last.features.cues}
    answered = _answered(transcript)[-len(messages) :]
    window = messages[-settings.window :]
    scores = [message_frustration(m, a) for m, a in zip(window, answered[-len(window) :], strict=True)]
    score = max(scores[-1], float(np.mean(scores)))
    if acknowledgement(last.features.canonical) and not last.features.cues:
        score *= PHATIC_DAMPING  # "no thanks" closes a conversation, it does not complain
    evidence = list(last.features.cues)
    compound = last.features.sentiment.compound
    if compound <= -0.3:
        evidence.append(f"negative sentiment ({compound:+.2f})")
    if last.p_frustrated >= 0.5 and not last.features.cues:
        evidence.append(f"reads as frustrated (model {last.p_frustrated:.2f})")
    if len(window) >= 2 and aimed_at_service(last):
        trend = [m.features.sentiment.compound for m in window]
        if trend[0] - trend[-1] >= TREND_DROP and trend[-1] <= -0.3:
            score += TREND_BONUS
            evidence.append("sentiment falling: " + " -> ".join(f"{value:+.2f}" for value in trend))
    words = len(last.features.canonical.split())
    if len(messages) >= 2 and words >= REPEAT_MIN_WORDS and not acknowledgement(last.features.canonical) \
            and asks_again(last.features):
        similarities = np.stack([m.embedding for m in messages[:-1]]) @ last.embedding
        best = float(similarities.max())
        if best >= settings.repeat_similarity:
            score += REPEAT_BONUS
            evidence.append(f"repeats an earlier message (similarity {best:.2f})")
            if pause is not None and pause >= settings.pause_minutes * 60:
                score += PAUSE_BONUS
                evidence.append(f"back after {_minutes(pause)} of silence, asking again")
    if pause is not None and pause >= settings.pause_minutes * 60 and "waiting" in kinds:
        score = max(score, CUE_FLOOR)
        evidence.append(f"{_minutes(pause)} without a reply")
    bot = transcript.bot_turns()
    # a surer answer is the same passage now asked for ("how long does shipping take?" after a vague
    # "a question about my order" got it as a guess), not the bot repeating itself
    if len(bot) >= 2 and same_answer(bot[-1].text, bot[-2].text) and not surer(bot[-1], bot[-2]):
        score += BOT_REPEAT_BONUS
        if not acknowledgement(last.features.canonical):
            # the visitor said something new and the bot has nothing new to say: a person may
            score = max(score, settings.offer_at)
        evidence.append("the bot gave the same answer twice")
    return SignalResult("frustration", round(min(score, 1.0), 4), evidence)


def asks_again(features: MessageFeatures) -> bool:
    """Whether a message said twice is the visitor asking again. "What is it about?" leans on what
    the bot named last, so said twice it asks about two things; "where is my refund, it hasn't come"
    names its own subject. (A statement said again after a new question from the bot, "I haven't
    seen it", was measured as an exception too and not kept: docs/handoff.md.)"""
    return not leans_on_earlier(features.text) or OWN_THING.search(features.canonical) is not None


def rules(transcript: Transcript, config: HandoffConfig) -> SignalResult:
    """Configured rules: topics that always go to a person (1.0); a VIP contact (offer level, and the
    policy escalates VIPs at the offer thresholds)."""
    contact = transcript.contact
    if contact is None:
        return SignalResult("rule", 0.0, [])
    wanted = {topic.lower() for topic in config.rules.topics}
    hits = sorted(wanted & {topic.lower() for topic in contact.topics})
    if hits:
        return SignalResult("rule", 1.0, [f"topic always goes to a person: {', '.join(hits)}"])
    if contact.vip and config.rules.vip_escalate:
        return SignalResult("rule", 0.5, ["VIP contact"])
    return SignalResult("rule", 0.0, [])


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


def _answered(transcript: Transcript) -> list[bool]:
    """For each user turn: whether the bot had said anything before it."""
    out, bot_spoke = [], False
    for turn in transcript.turns:
        if turn.role == "user":
            out.append(bot_spoke)
        elif turn.role == "bot":
            bot_spoke = True
    return out


def surer(answer: Turn, before: Turn) -> bool:
    """``answer`` is more confident than the bot's turn ``before`` it (unknown confidences are not)."""
    return answer.confidence is not None and before.confidence is not None and \
        answer.confidence > before.confidence


def same_answer(a: str, b: str) -> bool:
    """Two bot messages that say the same (nine words in ten shared): the bot repeating itself."""
    words_a, words_b = set(a.lower().split()), set(b.lower().split())
    if not words_a or not words_b:
        return False
    return len(words_a & words_b) / len(words_a | words_b) >= 0.9
