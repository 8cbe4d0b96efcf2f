"""Normalisation shared by both retrievers."""

from __future__ import annotations

from knowledge.text import normalize, tokens


def test_ids_links_addresses_and_placeholders_are_removed() -> None:
    text = ("Cancel order #ORD-12345 and 00987654 for a.b@x.example see https://x.example/a "
            "{{Order Number}} [EMI]")
    assert normalize(text) == "Cancel order and for see"


def test_short_numbers_and_case_stay_for_the_model() -> None:
    assert normalize("iPhone 15 costs 999 POUNDS") == "iPhone 15 costs 999 POUNDS"


def test_tokens_are_lowered_stemmed_and_without_stop_words() -> None:
    assert tokens("I'm CANCELLING my Orders!!!") == ["cancel", "order"]
    assert tokens("cancellation") == tokens("cancel") == ["cancel"]


def test_a_word_and_its_inflections_meet() -> None:
    """ "how long does shipping take" meets "delivery takes 2 to 4 days" (Snowball, not a suffix cut
    that made "takes" "tak")."""
    assert tokens("take") == tokens("takes") == tokens("taking") == ["take"]
    assert tokens("deliveries") == tokens("delivery")
