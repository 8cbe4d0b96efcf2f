"""``baton ask "question" [--json] [--index DIR]``: one answer from the knowledge index."""

from __future__ import annotations

import argparse
import asyncio
import json
from dataclasses import asdict
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("ask", help="answer one question from the knowledge index")
    parser.add_argument("question")
    parser.add_argument("--index", help="index folder (default: BATON_INDEX_DIR or var/index)")
    parser.add_argument("--model", help="litellm model string (default: settings llm_model)")
    parser.add_argument("--json", action="store_true", help="print the answer as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from engine.settings import get_settings
    from knowledge import Embedder, InputError, KnowledgeBase, compose

    settings = get_settings()
    index_dir = Path(args.index or settings.index_dir)
    if not (index_dir / "manifest.json").exists():
        raise InputError("no knowledge index; build one with `baton ingest PATH`", path=str(index_dir))
    knowledge_base = KnowledgeBase(index_dir, Embedder(settings.embedding_model,
                                                       backend=settings.embedding_backend))
    retrieval = knowledge_base.retrieve(args.question)
    answer = asyncio.run(compose(args.question, retrieval, [], model=args.model or settings.llm_model,
                                 timeout=settings.llm_timeout_seconds))
    if args.json:
        payload = asdict(answer)
        payload["hits"] = [{"doc_id": hit.chunk.doc_id, "chunk_id": hit.chunk.id, "title": hit.chunk.title,
                            "score": hit.score, "dense": hit.dense, "lexical": hit.lexical}
                           for hit in retrieval.hits]
        print(json.dumps(payload, indent=2))
        return 0
    print(answer.text)
    print(f"\nconfidence: {answer.confidence:.2f}" + ("  (no answer found)" if answer.no_answer else ""))
    if answer.handoff:  # in a conversation the bot hands over here rather than promise it
        print(f'hands over to a person: the article "{answer.handoff_source}" says a person takes this over')
    for number, citation in enumerate(answer.citations, 1):
        where = f"  {citation.url}" if citation.url else ""
        print(f"[{number}] {citation.title} ({citation.doc_id}){where}")
    return 0
