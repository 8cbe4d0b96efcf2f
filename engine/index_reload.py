"""Each worker follows the index folder: when ``baton ingest`` writes a new version, the bot uses it.

``baton ingest`` writes a version's data files first and replaces ``manifest.json`` last, so a
worker sees the old version or the new one, never half of each. Every worker checks the manifest on
a timer (a ``stat`` per check; the JSON is read only when the file changed), so no message has to
reach it: one worker, many workers on one machine, or many machines over a shared folder all work
the same way, and a worker that was down during an ingest catches up when it starts.

The new version is opened as a fresh ``KnowledgeBase`` (with the bot's embedder) in a worker thread
and swapped in on the event loop, rather than through ``KnowledgeBase.reload()``, which rebuilds the
instance that a retrieval may be reading in another thread at that moment: a retrieval batch in
flight finishes on the version it started with.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import anyio.to_thread

from engine.service.runtime import ServiceContext

log = logging.getLogger(__name__)
CHECK_SECONDS = 2.0


@dataclass
class ManifestWatch:
    """The manifest's version, re-read only when the file's identity or size changes."""

    path: Path
    _stamp: tuple[int, int, int] | None = None
    _version: int | None = None

    def version(self) -> int | None:
        """The version ``baton ingest`` last wrote, or None if there is no (readable) manifest."""
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            return None
        stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            try:
                self._version = int(json.loads(self.path.read_text())["version"])
            except (OSError, ValueError, KeyError, TypeError):
                return None  # replaced as we read it, or not a manifest: try again next check
            self._stamp = stamp
        return self._version


async def check(ctx: ServiceContext, watch: ManifestWatch) -> bool:
    """Swap in the newer index if there is one; True if the bot now answers from it."""
    bot = ctx.bot
    if bot is None:
        return False  # no bot (started without an index, or tests without one): nothing to follow
    version = watch.version()
    current = bot.knowledge_base
    if version is None or version == current.version:
        return False
    fresh = await anyio.to_thread.run_sync(type(current), current.index_dir, current.embedder)
    bot.knowledge_base = fresh  # the bot's next retrieval batch reads it; one in flight keeps the old
    log.info("knowledge index: now serving version %d (was %d)", fresh.version, current.version)
    return True


async def run(ctx: ServiceContext, interval: float = CHECK_SECONDS) -> None:
    """The periodic task that create_app's lifespan starts; runs until cancelled."""
    watch = ManifestWatch(Path(ctx.settings.index_dir) / "manifest.json")
    while True:
        await asyncio.sleep(interval)
        try:
            await check(ctx, watch)
        except Exception:
            log.exception("knowledge index: reload failed; still serving the previous version")
