"""What routing knows about a conversation beyond its team: the language it is written in, its topic
read from the whole transcript and the knowledge-base entries it touched, and a region.

The bot calls ``annotate`` when it hands a conversation over; the handoff packet then carries
``language`` and ``topics``, and ``policy.derive_skills`` turns them into the ``lang:*`` and
``topic:*`` skills that routing matches against operators' and teams' skills. A person can set or
correct them later (``conversations.set_routing``, ``POST /api/operator/conversations/{id}/routing``).

Language detection runs offline with ``lingua`` (its models ship inside the wheel), restricted to
the languages a support desk is likely to see so that short messages are not mistaken for rarer
ones. The desk's own language (``BATON_DESK_LANGUAGE``, ``Settings.desk_language``, one of
``LANGUAGES``) is never made a requirement: an operator who
lists no ``lang:*`` skill is taken to read it, so only another language narrows who may answer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from functools import cache
from typing import Any

LANGUAGES = ("ENGLISH", "GERMAN", "FRENCH", "SPANISH", "ITALIAN", "DUTCH", "PORTUGUESE", "POLISH", "SWEDISH",
             "DANISH", "TURKISH")
MIN_CONFIDENCE = 0.6  # another language must be this clear: it narrows who may answer
DESK_LEAD = 1.5  # the desk's language needs only to lead the runner-up this much
MIN_LETTERS = 12
TOPIC_SHARE = 0.5  # a topic counts when its weight is at least half the strongest topic's
HITS_PER_RETRIEVAL = 3


@cache
def _detector() -> Any:
    from lingua import Language, LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(*(getattr(Language, name) for name in LANGUAGES)).build()


def warm() -> None:
    """Load the language models (a few seconds) before the first handoff needs them."""
    _detector().detect_language_of("warm up")


def detect_language(texts: Sequence[str], desk_language: str) -> str | None:
    """The ISO 639-1 code of what the visitor wrote (all their messages together), or None when
    there is too little text or no language is clearly ahead. Short English reads as English at
    lingua's modest confidence; another language needs a clear one, since it becomes a requirement."""
    text = " ".join(t.strip() for t in texts if t.strip())
    if sum(ch.isalpha() for ch in text) < MIN_LETTERS:
        return None
    best, runner_up = _detector().compute_language_confidence_values(text)[:2]
    code = best.language.iso_code_639_1.name.lower()
    if code == desk_language:  # harmless if wrong: it narrows nobody
        return code if best.value >= DESK_LEAD * runner_up.value else None
    return code if best.value >= MIN_CONFIDENCE else None  # another language must be clear


def transcript_topics(retrievals: Sequence[Any]) -> list[str]:
    """Topics (knowledge-base tags) of a conversation from several retrievals (one per visitor
    message and one of the whole transcript): each tag weighs the scores of the top hits that carry
    it; the strongest and those at least half as strong are kept."""
    weight: dict[str, float] = defaultdict(float)
    for retrieval in retrievals:
        for hit in retrieval.hits[:HITS_PER_RETRIEVAL]:
            for tag in hit.chunk.tags:
                if str(tag).strip():
                    weight[str(tag).strip().lower()] += max(float(hit.score), 0.0)
    if not weight:
        return []
    strongest = max(weight.values())
    return sorted(tag for tag, w in weight.items() if strongest and w >= TOPIC_SHARE * strongest)


async def annotate(packet: dict[str, Any], bot: Any, visitor_texts: Sequence[str], current: Any) -> None:
    """Add ``language``, ``detected_language`` and ``topics`` to a handoff packet. ``current`` is
    the retrieval of the last message; the earlier messages and the whole transcript are retrieved
    through the bot's batcher (the entries the bot touched while answering them)."""
    import asyncio

    earlier = [t for t in visitor_texts[:-1] if t.strip()]
    queries = earlier + (["\n".join(visitor_texts)] if len(visitor_texts) > 1 else [])
    found = await asyncio.gather(*(bot.retrieve(q) for q in queries))
    packet["topics"] = transcript_topics([current, *(retrieval for retrieval, _ in found)])
    language = await asyncio.to_thread(detect_language, visitor_texts, bot.desk_language)
    packet["detected_language"] = language
    if language and language != bot.desk_language:
        packet["language"] = language


LANGUAGE, TOPIC, REGION = "lang:", "topic:", "region:"


def with_inputs(skills: Sequence[str], *, desk_language: str, language: str | None = None,
                topics: Sequence[str] | None = None, region: str | None = None) -> list[str]:
    """``skills`` with the inputs given replaced (``None`` keeps what is there, an empty string or
    list clears it). The desk's own language is not a requirement, so setting it clears ``lang:``."""
    out = set(skills)
    if language is not None:
        out = {s for s in out if not s.startswith(LANGUAGE)}
        code = language.strip().lower().split("-")[0]
        if code and code != desk_language:
            out.add(LANGUAGE + code)
    if topics is not None:
        out = {s for s in out if not s.startswith(TOPIC)}
        out |= {TOPIC + t.strip().lower() for t in topics if t.strip()}
    if region is not None:
        out = {s for s in out if not s.startswith(REGION)}
        if region.strip():
            out.add(REGION + region.strip().lower())
    return sorted(out)
