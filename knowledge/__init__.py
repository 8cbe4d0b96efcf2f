"""The knowledge base: loaders, chunking, embeddings, the FAISS index, retrieval and answers.

Names are imported lazily (module ``__getattr__``) so that ``import knowledge`` stays cheap and
torch, FAISS or litellm load only when a caller touches what needs them.
"""

from __future__ import annotations

import importlib
from typing import Any

from knowledge.errors import InputError

_LAZY = {
    "Document": "knowledge.documents",
    "Chunk": "knowledge.documents",
    "load_path": "knowledge.loaders",
    "chunk_document": "knowledge.chunking",
    "Embedder": "knowledge.embedder",
    "KnowledgeIndex": "knowledge.index",
    "IngestStats": "knowledge.index",
    "Hit": "knowledge.retrieval",
    "Retrieval": "knowledge.retrieval",
    "KnowledgeBase": "knowledge.retrieval",
    "Answer": "knowledge.answers",
    "Citation": "knowledge.answers",
    "compose": "knowledge.answers",
    "draft": "knowledge.answers",
    "draft_builtin": "knowledge.answers",
    "is_builtin": "knowledge.answers",
    "BUILTIN_MODEL": "knowledge.extractive",
    "register_builtin_provider": "knowledge.extractive",
    "NO_ANSWER": "knowledge.prompts",
    "remove_promises": "knowledge.promises",
    "read_in_context": "knowledge.followup",
    "joined_is_better": "knowledge.followup",
    "may_join": "knowledge.followup",
}

__all__ = ["InputError", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'knowledge' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
