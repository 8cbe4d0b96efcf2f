"""`baton eval retrieval QUERIES --kb KB --out DIR` (EVAL_FORMAT.md, retrieval evaluation)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("retrieval", help="recall@k, MRR and answerable AUROC of retrieval")
    parser.add_argument("queries", help="JSONL: id, text, kb_id (null when unanswerable)")
    parser.add_argument("--kb", required=True, help="knowledge base: FAQ JSONL/CSV or a folder of articles")
    parser.add_argument("--out", required=True, help="folder for metrics.json, predictions.jsonl and index/")
    parser.add_argument("--model", default=None, help="embedding model path or name (default: bundled)")
    parser.add_argument("--backend", choices=("auto", "onnx", "torch"), default="auto")
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from eval.retrieval import load_queries, metrics, prediction_rows, run
    from knowledge import Embedder, KnowledgeBase, KnowledgeIndex, load_path

    started = time.perf_counter()
    out = Path(args.out)
    documents = load_path(args.kb)
    queries = load_queries(args.queries, known_ids={doc.id for doc in documents})
    embedder = Embedder(args.model, backend=args.backend)
    index_dir = out / "index"
    stats = KnowledgeIndex.open(index_dir).ingest(documents, embedder, roots=[args.kb])
    print(f"index: {stats.summary()}", file=sys.stderr)
    knowledge_base = KnowledgeBase(index_dir, embedder)
    outcomes = run(queries, knowledge_base)
    result = metrics(outcomes)
    result["backend"] = embedder.backend
    result["seconds"] = round(time.perf_counter() - started, 2)
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(result, indent=2) + "\n")
    with open(out / "predictions.jsonl", "w") as handle_out:
        handle_out.writelines(json.dumps(row) + "\n" for row in prediction_rows(outcomes))
    print(json.dumps(result, indent=2))
    return 0
