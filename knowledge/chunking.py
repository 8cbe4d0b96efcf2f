"""Cut documents into retrievable chunks: by heading first, then by paragraph.

A FAQ entry stays one chunk (its answer is one unit). An article is split at every heading;
within a section, paragraphs are packed into chunks of at most ``MAX_CHARS`` characters
(about the 128 word pieces MiniLM was trained on), and a paragraph longer than that is split
between sentences. Each chunk keeps its document, its heading path and its URL.
"""

from __future__ import annotations

import re

from knowledge.articles import HEADING
from knowledge.documents import Chunk, Document

MAX_CHARS = 700
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")
FENCE = re.compile(r"^\s*(```|~~~)")


def chunk_document(doc: Document, max_chars: int = MAX_CHARS) -> list[Chunk]:
    """The chunks of ``doc`` in reading order, ids ``doc_id#0``, ``doc_id#1``, ..."""
    if doc.is_faq:
        pieces = [([], doc.text)]
    else:
        pieces = [(path, text) for path, paragraphs in _sections(doc.text)
                  for text in _pack(paragraphs, max_chars)]
    return [Chunk(id=f"{doc.id}#{n}", doc_id=doc.id, text=text, title=doc.title, heading_path=path,
                  url=doc.url, tags=list(doc.tags), examples=list(doc.examples) if n == 0 else [])
            for n, (path, text) in enumerate(pieces)]


def split_sentences(text: str) -> list[str]:
    """Sentences of a passage (a light rule: end punctuation followed by a capital or digit)."""
    return [s.strip() for line in text.split("\n") for s in SENTENCE_END.split(line) if s.strip()]


def _sections(text: str) -> list[tuple[list[str], list[str]]]:
    """(heading path, paragraphs) per section; fenced code blocks are kept whole."""
    sections: list[tuple[list[str], list[str]]] = []
    stack: list[tuple[int, str]] = []
    paragraphs: list[str] = []
    current: list[str] = []
    in_fence = False

    def end_paragraph() -> None:
        if current:
            paragraphs.append("\n".join(current).strip())
            current.clear()

    def end_section() -> None:
        end_paragraph()
        if paragraphs:
            sections.append(([title for _, title in stack], list(paragraphs)))
            paragraphs.clear()

    for line in text.splitlines():
        if FENCE.match(line):
            in_fence = not in_fence
            current.append(line)
            continue
        heading = None if in_fence else HEADING.match(line)
        if heading:
            end_section()
            level = len(heading.group(1))
            stack = [(lvl, title) for lvl, title in stack if lvl < level] + [(level, heading.group(2))]
        elif not line.strip() and not in_fence:
            end_paragraph()
        else:
            current.append(line.rstrip())
    end_section()
    return sections


def _pack(paragraphs: list[str], max_chars: int) -> list[str]:
    """Greedy packing of whole paragraphs (or sentences of a long one) up to ``max_chars``."""
    units = [unit for paragraph in paragraphs
             for unit in ([paragraph] if len(paragraph) <= max_chars else _split_long(paragraph, max_chars))]
    chunks: list[str] = []
    for unit in units:
        if chunks and len(chunks[-1]) + 2 + len(unit) <= max_chars:
            chunks[-1] += "\n\n" + unit
        else:
            chunks.append(unit)
    return chunks


def _split_long(paragraph: str, max_chars: int) -> list[str]:
    pieces: list[str] = []
    for sentence in split_sentences(paragraph):
        words = sentence.split(" ")
        while len(sentence) > max_chars:  # a run-on "sentence": cut at a word boundary
            head: list[str] = []
            while words and len(" ".join([*head, words[0]])) <= max_chars:
                head.append(words.pop(0))
            if not head:
                head.append(words.pop(0))
            pieces.append(" ".join(head))
            sentence = " ".join(words)
        if sentence:
            if pieces and len(pieces[-1]) + 1 + len(sentence) <= max_chars:
                pieces[-1] += " " + sentence
            else:
                pieces.append(sentence)
    return pieces
