"""Which messages lean on the question before them, and how they are read with it."""

from __future__ import annotations

import pytest

from knowledge.extractive import _extract
from knowledge.followup import anchor, leans_on_earlier, read_in_context
from knowledge.prompts import Passage


@pytest.mark.parametrize("text", [
    "and how long?", "what about Australia", "how about express delivery?", "is it free?", "do they expire",
    "how long do I have", "how much does it cost", "when will it arrive", "and can I pay by card?",
    "can I use more than one",
])
def test_questions_that_lean_on_the_one_before(text: str) -> None:
    assert leans_on_earlier(text)


@pytest.mark.parametrize("text", [
    "do you ship to Canada?", "how do I reset my password", "what is the meaning of life", "thanks",
    "ok", "why?", "it didn't help", "that didn't help", "and it still doesn't work", "can i speak to a human",
    "how many points do I get per pound", "is there a store in London",
    "my parcel arrived damaged and I need to know if it can be replaced before Friday please",
])
def test_messages_that_stand_on_their_own(text: str) -> None:
    assert not leans_on_earlier(text)


def test_the_anchor_is_the_last_earlier_question_that_stands_on_its_own() -> None:
    earlier = ["hi there", "do you ship to Canada?", "and how long?"]
    assert anchor(earlier) == "do you ship to Canada?"
    assert read_in_context("what about Australia?", earlier) == "do you ship to Canada? what about Australia?"
    assert read_in_context("what about Australia?", []) is None
    assert read_in_context("do you sell gift cards?", earlier) is None
    assert read_in_context("is it free", ["returns"]) == "returns? is it free"
    # a statement that refers back is no anchor either
    assert read_in_context("how do I send it back", ["I'd like to return a mug", "it's unused"]) == (
        "I'd like to return a mug? how do I send it back")


PASSAGE = Passage(1, "International shipping", (
    "Yes, we ship to 38 countries. EU delivery takes 4 to 8 working days and costs £11.95. "
    "Customs duties are paid by the recipient. The full list of countries is on our shipping page."))


def test_a_follow_up_gets_the_sentence_that_answers_it_alone() -> None:
    assert _extract("and how long?", PASSAGE, "do you ship to Canada?") == (
        "EU delivery takes 4 to 8 working days and costs £11.95.")
    assert _extract("do you ship to Canada?", PASSAGE).startswith("Yes, we ship to 38 countries. EU delivery")


def test_the_kind_of_answer_asked_for_breaks_ties() -> None:
    passage = Passage(1, "Refunds", "We refund returns by card. Card refunds take 3 to 5 working days. "
                      "Gift card refunds are instant.")
    assert _extract("how long until I see it", passage).startswith("Card refunds take 3 to 5 working days")


def test_a_joined_reading_replaces_only_a_message_too_unsure_on_its_own() -> None:
    from knowledge.followup import joined_is_better

    assert joined_is_better(0.19, 0.68)  # "and how long?" after "do you ship to Canada?"
    assert not joined_is_better(0.63, 0.72)  # "what about klarna": the Klarna entry on its own
    assert not joined_is_better(0.3, 0.2) and not joined_is_better(None, None)
