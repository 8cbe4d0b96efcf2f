"""The attachment actions on a store of their own (SQLite file, a folder): uploads never sent are
swept after ``attachment_unsent_hours``, bytes and all, while sent ones stay; a conversation may hold
at most ``attachment_conversation_bytes``."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import anyio
import pytest

from engine import files as engine_files
from engine.models import utcnow
from engine.service import attachments, conversations
from engine.service.attachments import TooLarge
from tests.engine.attachments import files


def test_unsent_uploads_are_swept_and_sent_ones_kept(ctx: Any) -> None:
    async def scenario() -> None:
        conversation, _token = await conversations.start(ctx)
        shot = files.screenshot()
        kept = await attachments.upload(ctx, conversation.id, "kept.png", shot, uploader="visitor")
        await conversations.accept(ctx, conversation.id, "", "c-1", [kept.id])
        dropped = await attachments.upload(ctx, conversation.id, "left.png", shot, uploader="visitor")
        folder = engine_files.FolderStore(ctx.settings.attachment_dir)
        assert await attachments.sweep_unsent(ctx) == 0  # not old yet
        later = utcnow() + timedelta(hours=ctx.settings.attachment_unsent_hours + 1)
        assert await attachments.sweep_unsent(ctx, later) == 1
        with pytest.raises(engine_files.FileMissing):
            await folder.get(dropped.storage_key)
        with pytest.raises(engine_files.FileMissing):
            await folder.get(dropped.thumbnail_key)
        assert await folder.get(kept.storage_key) == shot
        assert await ctx.read(attachments.operator_readable, kept.id)

    anyio.run(scenario)


def test_a_conversation_holds_at_most_its_quota(ctx: Any) -> None:
    shot = files.screenshot()
    small = dataclasses.replace(ctx, settings=ctx.settings.model_copy(
        update={"attachment_conversation_bytes": len(shot) * 2 + 10}))

    async def scenario() -> None:
        conversation, _token = await conversations.start(small)
        for _ in range(2):
            await attachments.upload(small, conversation.id, "a.png", shot, uploader="visitor")
        refusal = (r"this conversation already holds 0\.\d MiB of files; "
                   r"a conversation may hold at most 0\.\d+ MiB")
        with pytest.raises(TooLarge, match=refusal):
            await attachments.upload(small, conversation.id, "a.png", shot, uploader="visitor")

    anyio.run(scenario)
