"""Typo correction toward the knowledge base's words (knowledge/spelling.py), on hand-written
questions, and what it does to retrieval on the sample knowledge base."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.spelling import Speller, encoder_words, frequency, one_edit

KB_TEXTS = [
    "How do I activate my card?",
    "Activate a new card",
    "Where is my refund? I have not received it",
    "Cash withdrawal limits at an ATM",
    "card card cash",
]


@pytest.fixture(scope="module")
def speller(embedder) -> Speller:
    return Speller(KB_TEXTS, embedder.vocabulary())


def test_one_edit_covers_the_four_kinds_of_typo():
    edits = one_edit("card")
    assert {"crd", "acrd", "cord", "carda"} <= edits  # dropped, swapped, changed, added
    assert "card" not in edits and "cdra" not in edits  # two edits away


def test_typos_are_corrected_toward_the_knowledge_base(speller):
    assert speller("activatd my crad") == "activate my card"
    assert speller("I have not recieved my refnud") == "I have not received my refund"
    assert speller("withdrawl limit") == "withdrawal limit"
    assert speller("Crad blocked") == "card blocked"  # the correction is the knowledge base's word


def test_real_words_and_unrelated_words_stay_as_typed(speller):
    # "cart" is one edit from "card" but a word: never corrected (nor "cast", "bash", "wifi").
    assert speller("my cart is empty") == "my cart is empty"
    assert speller("cast a spell, bash the wifi") == "cast a spell, bash the wifi"
    # A word common in another language is not a typo either ("tarjeta": card, in Spanish).
    assert frequency("tarjeta") >= 3.0
    assert speller("mi tarjeta no funciona") == "mi tarjeta no funciona"
    # Short words, words of other scripts or with accents, and words near nothing stay.
    assert speller("teh crd") == "teh crd"
    assert speller("niño zxqvw") == "niño zxqvw"
    # A question about something absent keeps its words: it still reads as unanswerable.
    assert speller("book a flight to lisbon") == "book a flight to lisbon"


def test_the_most_used_word_wins_and_the_answer_does_not_depend_on_case(embedder):
    # "carh" is one edit from "card" and from "cash"; the one the knowledge base uses more wins.
    assert Speller(["card card cash"], embedder.vocabulary()).word("carh") == "card"
    assert Speller(["cash cash card"], embedder.vocabulary()).word("carh") == "cash"
    speller = Speller(["card"], frozenset())
    assert speller.word("Xyzzy") == "Xyzzy" and speller.word("xyzzy") == "xyzzy"  # cached, case kept


def test_chat_shorthands_are_spelt_out_unless_the_knowledge_base_writes_them(speller, embedder):
    assert speller("can u activate my crad pls") == "can you activate my card please"
    assert speller("Thx, wheres my refund") == "thanks, where is my refund"
    assert speller("menu items") == "menu items"  # "u" only as a word of its own
    # A knowledge base whose examples write "pls" keeps it: that is how its customers write.
    assert Speller(["order status pls"], embedder.vocabulary())("cancel pls") == "cancel pls"


def test_nothing_to_correct_toward_without_a_knowledge_base():
    assert Speller([], frozenset())("activatd my crad") == "activatd my crad"


def test_encoder_words_reads_whole_words_of_the_tokenizer(tmp_path: Path, embedder):
    (tmp_path / "vocab.txt").write_text("[PAD]\n##ing\ncard\nHello\n2024\n")
    assert encoder_words(tmp_path) == frozenset({"card", "hello"})
    assert encoder_words(tmp_path / "missing") == frozenset()
    assert {"card", "cart", "order"} <= embedder.vocabulary()


def test_a_typed_question_meets_its_entry_on_the_sample_knowledge_base(sample_index, sample_kb, embedder):
    from knowledge import KnowledgeBase

    clean, typed = sample_kb.retrieve_many(["where is my order", "where is my ordr"])
    assert typed.query == "where is my ordr"  # the retrieval keeps what the visitor typed
    assert typed.hits[0].chunk.doc_id == clean.hits[0].chunk.doc_id == "orders:track"
    assert typed.confidence == pytest.approx(clean.confidence)  # searched as "where is my order"
    # The same question searched as typed: further from the entry, less sure.
    as_typed = KnowledgeBase(sample_index, embedder)
    as_typed._speller = Speller([], frozenset())
    assert as_typed.retrieve("where is my ordr").confidence < clean.confidence - 0.05
    # A word the knowledge base itself spells that way is its own word ("how to cancle an order").
    assert sample_kb._speller("cancle") == "cancle"
