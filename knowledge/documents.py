"""The two units of a knowledge base: a document as loaded, and the chunks it is cut into."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field


def is_faq_source(source: str) -> bool:
    """FAQ entries (JSONL/CSV) carry example questions; their answer is one short unit."""
    return source.lower().endswith((".jsonl", ".csv"))


@dataclass
class Document:
    """One FAQ entry or one article. ``source`` is the file it came from."""

    id: str
    title: str
    text: str
    examples: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    url: str | None = None
    source: str = ""

    @property
    def is_faq(self) -> bool:
        return is_faq_source(self.source)

    def content_hash(self) -> str:
        """Changes iff anything that is embedded or shown changes (the source path does not count)."""
        payload = {key: value for key, value in asdict(self).items() if key != "source"}
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:24]


@dataclass
class Chunk:
    """A retrievable passage of one document; ``id`` is ``doc_id#n``."""

    id: str
    doc_id: str
    text: str
    title: str
    heading_path: list[str] = field(default_factory=list)
    url: str | None = None
    tags: list[str] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Chunk:
        return cls(**data)
