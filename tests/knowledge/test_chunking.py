"""Chunking by heading and paragraph."""

from __future__ import annotations

from knowledge import Document, chunk_document
from knowledge.chunking import split_sentences


def article(text: str) -> Document:
    return Document(id="guide", title="Guide", text=text, url="https://x.example/g", tags=["t"],
                    source="g.md")


def test_each_heading_starts_a_chunk_with_its_path() -> None:
    text = "# Returns\n\nThirty days.\n\n## Abroad\n\nSixty days.\n\n# Refunds\n\nFive days."
    chunks = chunk_document(article(text))
    assert [(c.id, c.heading_path, c.text) for c in chunks] == [
        ("guide#0", ["Returns"], "Thirty days."),
        ("guide#1", ["Returns", "Abroad"], "Sixty days."),
        ("guide#2", ["Refunds"], "Five days."),
    ]
    assert all(c.doc_id == "guide" and c.url == "https://x.example/g" and c.title == "Guide" for c in chunks)


def test_paragraphs_pack_up_to_the_limit_and_long_ones_split_between_sentences() -> None:
    paragraph = " ".join(f"Sentence number {n} says something useful." for n in range(40))
    chunks = chunk_document(article(f"# Long\n\nShort one.\n\nShort two.\n\n{paragraph}"), max_chars=300)
    assert chunks[0].text == "Short one.\n\nShort two."
    assert all(len(c.text) <= 300 for c in chunks)
    assert all(c.text.endswith(".") for c in chunks[1:])
    assert "".join(c.text for c in chunks[1:]).replace(" ", "") == paragraph.replace(" ", "")


def test_code_fences_are_not_headings() -> None:
    chunks = chunk_document(article("# Setup\n\n```\n# not a heading\n\nstill code\n```\n"))
    assert len(chunks) == 1 and "# not a heading" in chunks[0].text and chunks[0].heading_path == ["Setup"]


def test_faq_entry_is_one_chunk_with_its_examples() -> None:
    entry = Document(id="a", title="Refunds", text="One.\n\n# Two\n\nThree.", examples=["money back"],
                     source="faq.jsonl")
    (chunk,) = chunk_document(entry)
    assert (chunk.id, chunk.text, chunk.examples) == ("a#0", entry.text, ["money back"])


def test_split_sentences() -> None:
    assert split_sentences("It costs £4. Free from £40! Really? yes.\nNext line") == [
        "It costs £4.", "Free from £40!", "Really? yes.", "Next line"]
