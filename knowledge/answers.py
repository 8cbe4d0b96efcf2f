"""Answers and operator drafts: retrieval -> prompt -> language model -> cited answer.

Any litellm model string works (``model=``); the default is the built-in extractive provider.
The built-in one is called in-process on the same prompt rather than through
``litellm.acompletion``: it needs no network, key or cost accounting, and litellm's per-call
bookkeeping (cost lookup, logging) costs about 5 ms, more than the query embedding itself
(docs/knowledge.md). Routed through litellm it gives the same text (tests/knowledge/test_answers.py).
A real model that times out or fails falls back to the built-in answerer, so a visitor always
gets a grounded answer or an honest "no answer".

Every reply passes the false-promise guard (``knowledge.promises``) after generation, whatever the
model: a bot answer that promises a person keeps the promise only when a cited passage makes it
itself and the retrieval is sure enough of that passage to send it (``Answer.handoff``: the caller
must then hand over), and loses it otherwise; a draft for an operator loses its hand-over
sentences, since a person is already writing it.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from knowledge.extractive import BUILTIN_MODEL, extractive_reply, register_builtin_provider
from knowledge.followup import STANDS_ON_ITS_OWN
from knowledge.promises import promises, promises_person, remove_promises
from knowledge.prompts import NO_ANSWER, Task, build_messages, passage_heading
from knowledge.retrieval import Hit, Retrieval

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 20.0
MAX_PASSAGES = 3
# Confidence kept when the model says the passages do not answer the question.
NO_ANSWER_FACTOR = 0.3
NO_ANSWER_TEXT = "I couldn't find an answer to that in our help articles."
CITATION = re.compile(r"\[(\d+)\]")


@dataclass
class Citation:
    doc_id: str
    chunk_id: str
    title: str
    url: str | None
    score: float


@dataclass
class Answer:
    text: str
    citations: list[Citation] = field(default_factory=list)
    confidence: float = 0.0
    no_answer: bool = False
    model: str = BUILTIN_MODEL
    # The knowledge base itself says a person takes this over (a cited passage promises it, and so
    # does the answer): the bot must escalate rather than send a promise it does not keep.
    handoff: bool = False
    handoff_source: str | None = None  # title of the passage that says so
    removed: list[str] = field(default_factory=list)  # promise sentences the guard took out


async def compose(question: str, retrieval: Retrieval, history: Iterable[Any] = (), model: str | None = None,
                  timeout: float = DEFAULT_TIMEOUT, **litellm_kwargs: Any) -> Answer:
    """The bot's answer to ``question`` from ``retrieval``, with citations and a confidence.

    ``history`` holds the earlier turns (``.role``/``.text`` objects or dicts); extra keyword
    arguments go to ``litellm.acompletion`` (``api_base``, ``api_key``, ``mock_response``, ...).
    """
    return await draft("answer", question, retrieval, history, model, timeout, for_operator=False,
                       **litellm_kwargs)


async def draft(kind: Task, question: str, retrieval: Retrieval, history: Iterable[Any] = (),
                model: str | None = None, timeout: float = DEFAULT_TIMEOUT, *, for_operator: bool = True,
                **litellm_kwargs: Any) -> Answer:
    """A reply for an operator to edit: ``kind="answer"`` is a grounded answer to ``question``;
    ``kind="continuation"`` follows on from the whole conversation (``question`` is the
    visitor's last message; it may be empty when ``history`` already ends with it).
    ``for_operator=False`` is the bot's own answer (what ``compose`` sends)."""
    hits, messages = _prompt(kind, question, retrieval, history, for_operator)
    text, used = await _generate(messages, model or BUILTIN_MODEL, timeout, litellm_kwargs)
    return _shaped(kind, text, used, hits, retrieval, for_operator)


def is_builtin(model: str | None, litellm_kwargs: dict[str, Any]) -> bool:
    """Whether :func:`draft` would answer with the built-in provider, in-process."""
    return (model or BUILTIN_MODEL) == BUILTIN_MODEL and not litellm_kwargs


def draft_builtin(kind: Task, question: str, retrieval: Retrieval, history: Iterable[Any] = (), *,
                  for_operator: bool = True) -> Answer:
    """:func:`draft` through the built-in provider as a plain call: CPU only, for a caller that runs
    it in a worker thread rather than on its event loop (the operator's drafts)."""
    hits, messages = _prompt(kind, question, retrieval, history, for_operator)
    return _shaped(kind, extractive_reply(messages), BUILTIN_MODEL, hits, retrieval, for_operator)


def _prompt(kind: Task, question: str, retrieval: Retrieval, history: Iterable[Any],
            for_operator: bool) -> tuple[list[Hit], list[dict[str, str]]]:
    hits = retrieval.hits[:MAX_PASSAGES]
    passages = [(passage_heading(hit.chunk.title, hit.chunk.heading_path), hit.chunk.text) for hit in hits]
    return hits, build_messages(question, passages, history, task=kind, for_operator=for_operator)


def _shaped(kind: Task, text: str, used: str, hits: list[Hit], retrieval: Retrieval,
            for_operator: bool) -> Answer:
    """The model's ``text`` as an :class:`Answer`: its citations, the false-promise guard, and the
    confidence."""
    no_answer = text.strip().startswith(NO_ANSWER) or not text.strip()
    cited = sorted({int(n) for n in CITATION.findall(text) if 1 <= int(n) <= len(hits)})
    if not cited and not no_answer and hits:
        cited = [1]  # a model that answered without citing still answered from the top passage
    citations = [Citation(doc_id=hits[n - 1].chunk.doc_id, chunk_id=hits[n - 1].chunk.id,
                          title=hits[n - 1].chunk.title, url=hits[n - 1].chunk.url,
                          score=hits[n - 1].score) for n in cited]
    handoff_source, removed = None, []
    if not no_answer and promises(text):
        backing = [hits[n - 1] for n in cited if promises_person([hits[n - 1].chunk.text])]
        # the passage hands over only when it is the answer: a retrieval too unsure of it to stand on
        # its own is a guess ("can you recommend a vase" matched the damaged-item article at 0.20)
        if backing and not for_operator and retrieval.confidence >= STANDS_ON_ITS_OWN:
            handoff_source = backing[0].chunk.title or backing[0].chunk.doc_id
        else:
            guarded = remove_promises(text, handover_only=for_operator)
            text, removed = guarded.text, guarded.removed
            no_answer = kind == "answer" and not CITATION.sub("", text).strip()
    confidence = retrieval.confidence * (NO_ANSWER_FACTOR if no_answer else 1.0)
    if no_answer:
        text, citations = NO_ANSWER_TEXT, []
    return Answer(text=text.strip(), citations=citations, confidence=confidence, no_answer=no_answer,
                  model=used, handoff=handoff_source is not None, handoff_source=handoff_source,
                  removed=removed)


async def _generate(messages: list[dict[str, str]], model: str, timeout: float,
                    litellm_kwargs: dict[str, Any]) -> tuple[str, str]:
    """(text, model that produced it); any failure of a real model falls back to the built-in."""
    if is_builtin(model, litellm_kwargs):
        return extractive_reply(messages), BUILTIN_MODEL
    import litellm

    register_builtin_provider()
    try:
        async with asyncio.timeout(timeout):  # not wait_for: on 3.11 it can swallow a cancel
            response = await litellm.acompletion(model=model, messages=messages, timeout=timeout,
                                                 **litellm_kwargs)
        return str(response.choices[0].message.content or ""), model
    except Exception as exc:  # timeouts, provider and auth errors: never leave the visitor without a reply
        logger.warning("model %s failed (%s: %s); using the built-in answerer", model,
                       type(exc).__name__, exc)
        return extractive_reply(messages), BUILTIN_MODEL
