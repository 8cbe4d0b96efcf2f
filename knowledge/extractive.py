"""The built-in language model: a litellm provider that answers with sentences of the passages.

Registered with litellm as ``baton/extractive`` so the product runs offline and in tests through
exactly the code path a real model uses. It reads the prompt of ``knowledge.prompts`` back: the
best passage is [1] (retrieval ranked it), and from it the sentences that share most with the
question are returned with their neighbours, up to ``MAX_CHARS``, never a whole article, plus the
passage's own sentence saying that a person takes over, where it has one.

Sentences are ranked by the words they share with the question, then by whether they hold the
kind of answer the question asks for (a duration for "how long", an amount for "how much": the
expected answer type of question classification, Li and Roth 2002), then, for a follow-up that leans
on the question before it ("and how long?", ``knowledge.followup``), by the words they share with
that earlier question; the earliest sentence wins what is left. Where none of the sentences chosen
holds the kind of answer asked for, the nearest one that does (and shares a word) is added.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import litellm
from litellm.llms.custom_llm import CustomLLM
from litellm.types.utils import GenericStreamingChunk, ModelResponse

from knowledge.chunking import split_sentences
from knowledge.followup import anchor, leans_on_earlier
from knowledge.promises import promises
from knowledge.prompts import NO_ANSWER, Passage, read_messages
from knowledge.text import tokens

PROVIDER = "baton"
BUILTIN_MODEL = f"{PROVIDER}/extractive"
MAX_CHARS = 420
STREAM_WORDS = 4
ANAPHOR = re.compile(r"^(it|they|this|that|these|those|then|there|he|she)\b", re.IGNORECASE)
# (what the question asks for, what a sentence holding that answer contains)
ANSWER_TYPES = (
    (re.compile(r"\bhow (long|soon|quickly|fast)\b|\bhow many (minutes|hours|days|weeks|months|years)\b"
                r"|^when\b", re.IGNORECASE),
     re.compile(r"\b\d+\s*(to|-|–|or)?\s*\d*\s*(working |business )?"
                r"(minutes?|hours?|days?|weeks?|months?|years?)\b"
                r"|\b(today|tomorrow|next (working )?day|same day|instantly|immediately)\b", re.IGNORECASE)),
    (re.compile(r"\bhow much\b|\b(cost|costs|price|fee|fees|charge|charges|pay for)\b", re.IGNORECASE),
     re.compile(r"[£$€]\s?\d|\d\s?(%|percent|pounds|dollars|euros)\b|\bfree\b|\bno charge\b"
                r"|\bat (your|their) own (cost|expense)\b|\bpaid by (you|the (customer|recipient))\b",
                re.IGNORECASE)),
)


def extractive_reply(messages: list[dict[str, Any]]) -> str:
    """The reply the built-in model gives to a prompt built by ``knowledge.prompts``."""
    task, passages, conversation = read_messages(messages)
    question = next((m["content"] for m in reversed(conversation) if m["role"] == "user"), "")
    # what a follow-up leans on: the questions before it that were answered, as the bot chooses them
    answered = [m["content"] for m, after in zip(conversation, conversation[1:], strict=False)
                if m["role"] == "user" and after["role"] == "assistant"]
    earlier = (anchor(answered) or "") if leans_on_earlier(question) else ""
    answer = _extract(question, passages[0], earlier) if passages and passages[0].text else ""
    if task == "answer":
        return f"{answer} [{passages[0].number}]" if answer else NO_ANSWER
    opening = "Thanks for your patience." if any(m["role"] == "assistant" for m in conversation) \
        else "Thanks for reaching out."
    if not answer:
        return (f"{opening} I'm looking into this for you now. Could you share any details that would "
                "help, such as an order number or the e-mail address on the account?")
    return f"{opening} {answer} [{passages[0].number}] Does that help, or is there anything else I can do?"


def _extract(question: str, passage: Passage, earlier: str = "") -> str:
    """The sentences of ``passage`` that answer ``question``: the best match and what follows it;
    for a follow-up of ``earlier``, the best match alone."""
    sentences = [s.lstrip("-*# ").strip() for s in split_sentences(passage.text)]
    sentences = [s for s in sentences if s]
    if not sentences:
        return ""
    asked, before = set(tokens(question)), set(tokens(earlier))
    wanted = [holds for asks, holds in ANSWER_TYPES if asks.search(question)]
    # Distinct shared terms, earliest sentence on ties: answers tend to come first, and dividing by
    # length would favour short asides over the informative sentence.
    scores = [(len(asked & terms), any(holds.search(s) for holds in wanted), len(before & terms))
              for s, terms in ((s, set(tokens(s))) for s in sentences)]
    start = max(range(len(sentences)), key=lambda i: (scores[i], -i)) if any(map(any, scores)) else 0
    first = start - 1 if start and ANAPHOR.match(sentences[start]) else start  # "They take 5 days": say
    end = start + 1 if earlier else len(sentences)  # what "they" are; a follow-up asks one thing
    chosen: list[int] = []
    for i in range(first, end):
        if chosen and len(" ".join(sentences[j] for j in [*chosen, i])) > MAX_CHARS:
            break
        chosen.append(i)
    # The best-matching sentences may not hold what was asked ("how much are international returns":
    # the sentence naming international returns recommends a tracked service; the one before says
    # they are at your own cost): add the closest sentence that shares a word and holds it.
    if wanted and not any(scores[i][1] for i in chosen):
        holding = [i for i in range(len(sentences)) if scores[i][1] and scores[i][0]]
        if holding:
            chosen = sorted([*chosen, max(holding, key=lambda i: (scores[i][0], -abs(i - start)))])
    # A passage that says a person handles this says the most important thing there: keep it, so
    # that the answer carries the promise and the bot escalates for it (knowledge.promises).
    handover = next((i for i, s in enumerate(sentences) if promises(s)), None)
    if handover is not None and handover not in chosen:
        chosen = sorted([*chosen, handover])
    text = " ".join(sentences[i] for i in chosen)
    if len(text) > MAX_CHARS * 2:  # one run-on sentence: cut at a word
        text = text[: MAX_CHARS * 2].rsplit(" ", 1)[0] + " ..."
    return text


class ExtractiveLLM(CustomLLM):
    """litellm ``CustomLLM``: completion, acompletion, streaming and astreaming."""

    def completion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> ModelResponse:
        response: ModelResponse = kwargs.get("model_response") or ModelResponse()
        response.choices[0].message.content = extractive_reply(messages)  # type: ignore[union-attr]
        response.choices[0].finish_reason = "stop"
        response.model = BUILTIN_MODEL
        response.created = int(time.time())
        return response

    async def acompletion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> ModelResponse:
        return self.completion(model, messages, *args, **kwargs)

    def streaming(self, model: str, messages: list, *args: Any,
                  **kwargs: Any) -> Iterator[GenericStreamingChunk]:
        words = extractive_reply(messages).split(" ")
        for start in range(0, len(words), STREAM_WORDS):
            piece = " ".join(words[start:start + STREAM_WORDS])
            last = start + STREAM_WORDS >= len(words)
            yield GenericStreamingChunk(text=piece if start == 0 else " " + piece, is_finished=last,
                                        finish_reason="stop" if last else "", usage=None, index=0,
                                        tool_use=None)

    async def astreaming(self, model: str, messages: list, *args: Any,
                         **kwargs: Any) -> AsyncIterator[GenericStreamingChunk]:
        for chunk in self.streaming(model, messages, *args, **kwargs):
            yield chunk


_HANDLER = ExtractiveLLM()


def register_builtin_provider() -> None:
    """Make ``baton/extractive`` a litellm model (idempotent)."""
    if not any(entry.get("provider") == PROVIDER for entry in litellm.custom_provider_map):
        litellm.custom_provider_map = [*litellm.custom_provider_map,
                                       {"provider": PROVIDER, "custom_handler": _HANDLER}]
        litellm.suppress_debug_info = True
    # litellm reads the map into its provider list on each call through this helper.
    from litellm.utils import custom_llm_setup

    custom_llm_setup()
