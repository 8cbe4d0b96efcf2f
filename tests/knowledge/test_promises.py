"""Which sentences promise the visitor a person, and how the guard takes them out."""

from __future__ import annotations

import pytest

from knowledge.promises import promises, promises_person, remove_promises

PROMISES = [
    "We will pass you to a person.",
    "Let me transfer you to a human agent.",
    "I'm connecting you with a colleague now.",
    "You are being transferred to our support team.",
    "You'll be passed to our billing team.",
    "An agent will be with you shortly.",
    "Let me get a person for you.",
    "I'll put you through to someone.",
    "A person will take this over.",
    "A member of our payments team will look into it.",
    "Someone from our team will get back to you.",
]
NOT_PROMISES = [
    "Contact us and we will trace the parcel.",
    "A member of our team reviews each report within a working day.",
    "Report it so our team can look into it.",
    "Please contact our team.",
    "You can talk to a person on the phone from 8am.",
    "The person who bought the gift is not told.",
    "Points cannot be transferred to another person.",
    "Refunds go back to the original payment method.",
]


@pytest.mark.parametrize("sentence", PROMISES)
def test_promises_of_a_person(sentence: str) -> None:
    assert promises(sentence) == [sentence]


@pytest.mark.parametrize("sentence", NOT_PROMISES)
def test_statements_that_promise_nothing(sentence: str) -> None:
    assert promises(sentence) == [] and not promises_person([sentence])


def test_only_the_promising_clause_goes_and_citations_stay() -> None:
    text = ("Report it within 14 days [1]; a member of our team will review it and arrange a refund, so we "
            "will pass you to a person. Keep the box.")
    bot = remove_promises(text)
    assert bot.text == "Report it within 14 days [1]. Keep the box."
    person = remove_promises(text, handover_only=True)  # an operator is that member of the team
    assert person.text == ("Report it within 14 days [1]; a member of our team will review it and arrange a "
                           "refund. Keep the box.")
    assert person.removed == [text.split(" Keep")[0]]
    cited = remove_promises("Refunds take 3 days. I'll transfer you to an agent [2].")
    assert cited.text == "Refunds take 3 days. [2]"
