"""Set up a handoff replay from the command line's arguments: the data, the embedder shared by the
knowledge base and the detector, the detector's configuration and, with ``--kb``, a fresh index."""

from __future__ import annotations

import sys
from pathlib import Path

from eval.cached_embedder import CachedEmbedder
from eval.conversations import load_conversations
from eval.replay import Replay, knowledge_answerer
from eval.typos import with_typos


def build_replay(
    data: str,
    kb: str | None,
    work_dir: Path,
    config: str | None = None,
    model: str | None = None,
    backend: str = "auto",
    embedder: CachedEmbedder | None = None,
    progress: bool = True,
    typos: float = 0.0,
) -> Replay:
    """``embedder``: one already loaded (``baton eval cross`` shares it across bots); ``typos``: the
    share of words of every user turn given a typo (``eval.typos``)."""
    from handoff import Detector, HandoffConfig
    from knowledge import Embedder, KnowledgeBase, KnowledgeIndex, load_path

    conversations = with_typos(load_conversations(data), typos)
    handoff_config = HandoffConfig.load(config)
    if embedder is None:
        embedder = CachedEmbedder(Embedder(model, backend=backend), progress=True)
    detector = Detector(handoff_config, embedder)
    answerer = None
    if kb is not None:
        documents = load_path(kb)
        index_dir = work_dir / "index"
        index = KnowledgeIndex.open(index_dir)
        stats = index.ingest(documents, embedder.inner, progress=progress, roots=[kb])
        if progress:
            print(f"index: {stats.summary()}", file=sys.stderr)
        answerer = knowledge_answerer(KnowledgeBase(index_dir, embedder))
    return Replay(conversations, detector, answerer, progress=progress)
