"""Answers and drafts: the built-in provider in-process and through litellm, real-model prompts
through litellm's mock_response, NO_ANSWER, the fall-back when a model fails, and the false-promise
guard on the sample help centre (built-in provider and mock_response)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import litellm
import pytest

from knowledge import (
    BUILTIN_MODEL,
    NO_ANSWER,
    Chunk,
    Hit,
    Retrieval,
    compose,
    draft,
    draft_builtin,
    is_builtin,
    register_builtin_provider,
)
from knowledge.extractive import extractive_reply
from knowledge.promises import promises
from knowledge.prompts import build_messages, read_messages

REFUNDS = ("Refunds are issued within 3 working days of your return arriving at our warehouse. "
           "They go back to the original payment method. Card refunds can take another 3 to 5 days "
           "to show, depending on your bank. Gift card purchases are refunded as store credit. "
           "If you paid with PayPal the refund appears in your PayPal balance. "
           "We do not refund original delivery charges unless the item was faulty.")


def retrieval(confidence: float = 0.9) -> Retrieval:
    chunks = [Chunk(id="refunds#0", doc_id="refunds", text=REFUNDS, title="Refund timeline",
                    heading_path=["When will I get my money?"], url="https://x.example/refunds"),
              Chunk(id="returns:cost#0", doc_id="returns:cost", text="Returns from the UK are free.",
                    title="Do I pay for returns?")]
    hits = [Hit(chunk=c, score=0.9 - n / 10, dense=0.8, lexical=0.4, rank=n) for n, c in enumerate(chunks)]
    return Retrieval(query="q", hits=hits, confidence=confidence)


def test_prompt_carries_numbered_passages_and_history() -> None:
    messages = build_messages("and by card?", [("Refunds > Timing", "Five days."), ("Returns", "Free.")],
                              [{"role": "user", "text": "refund?"}, {"role": "bot", "text": "Sure."}])
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    system = messages[0]["content"]
    assert "[1] Refunds > Timing\nFive days." in system and NO_ANSWER in system
    task, passages, conversation = read_messages(messages)
    assert task == "answer" and [(p.number, p.heading, p.text) for p in passages] == [
        (1, "Refunds > Timing", "Five days."), (2, "Returns", "Free.")]
    assert conversation[-1] == {"role": "user", "content": "and by card?"}


def test_builtin_answer_is_the_answering_sentences_with_a_citation() -> None:
    answer = asyncio.run(compose("how long does a card refund take?", retrieval(), []))
    assert answer.model == BUILTIN_MODEL and not answer.no_answer
    assert "Card refunds can take another 3 to 5 days" in answer.text and answer.text.endswith("[1]")
    assert len(answer.text) < len(REFUNDS)  # the sentences that answer, not the whole passage
    assert [(c.doc_id, c.url) for c in answer.citations] == [("refunds", "https://x.example/refunds")]
    assert answer.confidence == pytest.approx(0.9)


def test_a_how_much_answer_holds_an_amount_even_when_another_sentence_shares_more_words() -> None:
    """The sentence naming international returns recommends a tracked service; the amount ("at your
    own cost") is in the one before it, which the answer then carries too."""
    text = ("Returns from the UK are free through our returns portal. Returns from outside the UK are "
            "sent by you at your own cost, unless the item is faulty. We recommend a tracked service "
            "for international returns, as we cannot refund a parcel that does not reach us.")
    chunk = Chunk(id="returns:cost#0", doc_id="returns:cost", text=text, title="Do I pay for returns?")
    found = Retrieval(query="q", hits=[Hit(chunk=chunk, score=0.9, dense=0.8, lexical=0.4, rank=0)],
                      confidence=0.9)
    answer = asyncio.run(compose("how much are international returns", found, [])).text
    assert answer.startswith("Returns from outside the UK are sent by you at your own cost")
    assert "We recommend a tracked service for international returns" in answer
    assert "through our returns portal" not in answer  # the nearer sentence with an amount, not the UK's
    # a question that asks for no amount gets the best-matching sentence alone, as before
    plain = asyncio.run(compose("tracked service for international returns?", found, [])).text
    assert plain.startswith("We recommend a tracked service")


def test_builtin_without_passages_says_it_has_no_answer() -> None:
    answer = asyncio.run(compose("what is the meaning of life", Retrieval(query="q", confidence=0.1), []))
    assert answer.no_answer and answer.citations == [] and answer.confidence == pytest.approx(0.03)


def test_litellm_routes_the_builtin_provider_with_the_same_text() -> None:
    register_builtin_provider()
    messages = build_messages("do I get delivery charges back?", [("Refunds", REFUNDS)])
    expected = extractive_reply(messages)
    assert "delivery charges" in expected
    response = litellm.completion(model=BUILTIN_MODEL, messages=messages)
    assert response.choices[0].message.content == expected
    streamed = "".join(chunk.choices[0].delta.content or ""
                       for chunk in litellm.completion(model=BUILTIN_MODEL, messages=messages, stream=True))
    assert streamed == expected

    async def both() -> tuple[str, str]:
        reply = await litellm.acompletion(model=BUILTIN_MODEL, messages=messages)
        stream = await litellm.acompletion(model=BUILTIN_MODEL, messages=messages, stream=True)
        parts = [chunk.choices[0].delta.content or "" async for chunk in stream]
        return reply.choices[0].message.content, "".join(parts)

    assert asyncio.run(both()) == (expected, expected)


def test_real_model_path_parses_citations() -> None:
    answer = asyncio.run(compose("are returns free?", retrieval(), [], model="openai/gpt-4o-mini",
                                 mock_response="Yes, UK returns are free [2]."))
    assert answer.model == "openai/gpt-4o-mini" and answer.text == "Yes, UK returns are free [2]."
    assert [c.doc_id for c in answer.citations] == ["returns:cost"]
    assert answer.confidence == pytest.approx(0.9)


def test_model_saying_no_answer_lowers_the_confidence() -> None:
    answer = asyncio.run(compose("can I pay in bitcoin?", retrieval(0.8), [], model="openai/gpt-4o-mini",
                                 mock_response=NO_ANSWER))
    assert answer.no_answer and answer.citations == [] and answer.confidence == pytest.approx(0.24)
    assert NO_ANSWER not in answer.text


def test_timeout_and_provider_errors_fall_back_to_the_builtin(caplog: pytest.LogCaptureFixture) -> None:
    slow = asyncio.run(compose("how long does a card refund take?", retrieval(), [],
                               model="openai/gpt-4o-mini", timeout=0.2, mock_response="late", mock_delay=2))
    broken = asyncio.run(compose("how long does a card refund take?", retrieval(), [],
                                 model="openai/gpt-4o-mini", mock_response=Exception("provider down")))
    for answer in (slow, broken):
        assert answer.model == BUILTIN_MODEL and "Card refunds" in answer.text
    assert "using the built-in answerer" in caplog.text


def test_continuation_draft_follows_the_conversation() -> None:
    history = [{"role": "user", "text": "I sent the blender back last week"},
               {"role": "bot", "text": "Thanks, I can see the return."}]
    reply = asyncio.run(draft("continuation", "when will the money be on my card?", retrieval(), history))
    assert reply.text.startswith("Thanks for your patience.") and "Card refunds" in reply.text
    assert reply.citations[0].doc_id == "refunds"
    empty = asyncio.run(draft("continuation", "it's about my account", Retrieval(query="q"), []))
    assert empty.text.startswith("Thanks for reaching out.") and "details" in empty.text
    assert not empty.no_answer


# --- the false-promise guard on the sample help centre ----------------------------------------------

DAMAGED = "my vase arrived broken, the box was crushed"
REFUND = "how long does a refund take once you get my return?"


def faq_entries() -> list[dict]:
    """The sample FAQ; entries whose own answers say a person takes over carry ``needs_human``."""
    faq = Path(__file__).resolve().parents[2] / "samples" / "kb" / "faq.jsonl"
    return [json.loads(line) for line in faq.read_text().splitlines() if line.strip()]


def test_sample_kb_answers_that_say_a_person_takes_over_escalate_and_no_other_does(sample_kb) -> None:
    """Through the built-in provider, every title and example of the sample FAQ against the whole
    sample help centre (FAQ and articles): each question of an entry whose answer says a person takes
    over gets that promise and ``handoff`` (the bot then escalates); no other entry's question does,
    and no answer promises a person without ``handoff``."""
    questions = [(entry, q) for entry in faq_entries() for q in (entry["title"], *entry["examples"])]
    retrievals = sample_kb.retrieve_many([q for _, q in questions])

    async def answers() -> list:
        return [await compose(q, r, []) for (_, q), r in zip(questions, retrievals, strict=True)]

    checked = list(zip(questions, asyncio.run(answers()), strict=True))
    for (entry, question), answer in checked:
        needs_human = "needs_human" in entry["tags"]
        assert answer.handoff == needs_human, (question, answer.text)
        assert bool(promises(answer.text)) == answer.handoff, (question, answer.text)
        if needs_human:
            assert answer.handoff_source == entry["title"]
    handed = sum(answer.handoff for _, answer in checked)
    assert (len(checked), handed) == (433, 65)  # 9 person-handled entries of 60, every question of each


def test_damaged_item_answer_keeps_its_promise_and_names_the_article(sample_kb) -> None:
    answer = asyncio.run(compose(DAMAGED, sample_kb.retrieve(DAMAGED), []))
    assert answer.handoff and answer.handoff_source == "My item arrived damaged or broken"
    assert "so we will pass you to a person" in answer.text and answer.removed == []
    assert answer.citations[0].doc_id == "damaged:damaged"


def test_a_promise_passage_retrieved_as_a_guess_hands_nobody_over(sample_kb) -> None:
    """The damaged-item passage says a person takes over; retrieved at a confidence below the offer
    level (a guess for another question) it is no reason to hand over, and its promise is removed."""
    weak = sample_kb.retrieve(DAMAGED)
    weak.confidence = 0.2
    answer = asyncio.run(compose("can you recommend a vase", weak, []))
    assert not answer.handoff and answer.handoff_source is None
    assert not promises(answer.text) and answer.removed
    sure = asyncio.run(compose(DAMAGED, sample_kb.retrieve(DAMAGED), []))
    assert sure.handoff and sure.confidence >= 0.5


def test_real_model_promise_without_backing_is_removed(sample_kb) -> None:
    """A model (litellm ``mock_response``) that offers a transfer the refund article never mentions:
    the sentence goes, the answer stays, and the bot has no reason to hand over."""
    reply = ("Refunds are issued within 3 working days of your return arriving [1]. "
             "If you'd like, I'll transfer you to a human agent to check on it.")
    answer = asyncio.run(compose(REFUND, sample_kb.retrieve(REFUND), [], model="openai/gpt-4o-mini",
                                 mock_response=reply))
    assert answer.model == "openai/gpt-4o-mini" and not answer.handoff
    assert answer.text == "Refunds are issued within 3 working days of your return arriving [1]."
    assert answer.removed == ["If you'd like, I'll transfer you to a human agent to check on it."]
    only_promise = asyncio.run(compose(REFUND, sample_kb.retrieve(REFUND), [], model="openai/gpt-4o-mini",
                                       mock_response="Let me connect you with one of our agents."))
    assert only_promise.no_answer and only_promise.citations == [] and not only_promise.handoff


def test_real_model_promise_backed_by_the_article_escalates(sample_kb) -> None:
    reply = ("I'm so sorry! Please send photos of the vase and the box within 14 days [1]. "
             "A colleague will take it from here and arrange a replacement.")
    answer = asyncio.run(compose(DAMAGED, sample_kb.retrieve(DAMAGED), [], model="openai/gpt-4o-mini",
                                 mock_response=reply))
    assert answer.handoff and answer.handoff_source == "My item arrived damaged or broken"
    assert answer.text == reply and answer.model == "openai/gpt-4o-mini"


def test_drafts_for_an_operator_never_promise_a_person(sample_kb) -> None:
    """A person writes the reply: the damaged-item article's hand-over clause goes from both kinds of
    draft (built-in and mock_response), what a person will do stays, and nothing escalates."""
    retrieval = sample_kb.retrieve(DAMAGED)
    builtin = asyncio.run(draft("answer", DAMAGED, retrieval, []))
    follow = asyncio.run(draft("continuation", "", retrieval, [{"role": "user", "text": DAMAGED}]))
    mocked = asyncio.run(draft("continuation", "", retrieval, [{"role": "user", "text": DAMAGED}],
                               model="openai/gpt-4o-mini",
                               mock_response="Sorry about that [1]. I'm passing you to a colleague now."))
    for reply in (builtin, follow):
        assert not reply.handoff and "pass you to a person" not in reply.text
        assert "a member of our team will review it and arrange a replacement or refund." in reply.text
        assert reply.removed and "so we will pass you to a person" in reply.removed[0]
    assert mocked.text == "Sorry about that [1]." and not mocked.handoff


def test_the_builtin_draft_as_a_plain_call_is_the_draft(sample_kb) -> None:
    """Operators' drafts compose in a worker thread through ``draft_builtin``: the same reply, guard
    and confidence as ``draft`` gives with the built-in provider."""
    retrieval = sample_kb.retrieve(DAMAGED)
    history = [{"role": "user", "text": DAMAGED}]
    for kind, question, turns in (("answer", DAMAGED, []), ("continuation", "", history)):
        plain = draft_builtin(kind, question, retrieval, turns)
        assert plain == asyncio.run(draft(kind, question, retrieval, turns))
        assert plain.removed  # the hand-over clause went, as in every operator draft
    assert is_builtin(None, {}) and is_builtin(BUILTIN_MODEL, {})
    assert not is_builtin("openai/gpt-4o-mini", {}) and not is_builtin(None, {"mock_response": "Hi."})


def test_the_prompt_tells_who_is_writing() -> None:
    bot = build_messages("q", [("A", "B")])[0]["content"]
    person = build_messages("q", [("A", "B")], for_operator=True)[0]["content"]
    assert "Never say that you will pass, transfer or connect" in bot
    assert "A person from the support team sends this reply" in person
    assert read_messages(build_messages("q", [("A", "B")], for_operator=True))[0] == "answer"
