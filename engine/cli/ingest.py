"""``baton ingest PATH... [--index DIR]``: build or update the knowledge index.

Unchanged documents cost nothing, changed ones are re-embedded, and documents that disappeared
from a re-ingested file or folder are removed. Prints one summary line at the end.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("ingest", help="load FAQ files and article folders into the index")
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="FAQ .jsonl/.csv files, articles (.md, .html, .txt) or folders of them")
    parser.add_argument("--index", help="index folder (default: BATON_INDEX_DIR or var/index)")
    parser.add_argument("--model", help="embedding model path or name (default: the bundled MiniLM)")
    parser.add_argument("--backend", choices=("auto", "onnx", "torch"), help="embedding backend")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from engine.settings import get_settings
    from knowledge import Embedder, KnowledgeIndex, load_path

    settings = get_settings()
    index_dir = Path(args.index or settings.index_dir)
    documents = [document for path in args.paths for document in load_path(path)]
    embedder = Embedder(args.model or settings.embedding_model,
                        backend=args.backend or settings.embedding_backend)
    stats = KnowledgeIndex.open(index_dir).ingest(documents, embedder, progress=not args.quiet,
                                                  roots=args.paths)
    print(f"baton ingest: {stats.summary()} -> {index_dir}")
    return 0
