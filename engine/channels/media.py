"""Files that come in with a channel message: Twilio's MMS media (``MediaUrlN``, fetched with the
account's basic auth), Messenger and Instagram attachments (``payload.url``, fetched), and email
attachments (their bytes came with the mail). Each is checked and stored like an upload
(``engine.service.attachments``) and kept with the message's text; a file that cannot be fetched or
is refused (a disguised executable, one over its size limit) is named in the stored text instead,
so the operator knows something was sent and why it is not there. The provider is still answered
200: it cannot send a different file, and the message's words must not be lost for it.
"""

from __future__ import annotations

import logging

import anyio.to_thread
import httpx

from engine.channels.base import DeliveryError, InboundFile, OutgoingFile
from engine.models import Channel
from engine.service import attachments
from engine.service.errors import ServiceError
from engine.service.runtime import ServiceContext

log = logging.getLogger(__name__)


class Unfetched(Exception):
    """The provider's link did not give the file (an error, a timeout, too large)."""


async def fetch(client: httpx.AsyncClient, file: InboundFile, limit: int) -> bytes:
    """The bytes behind ``file.url``, at most ``limit`` of them (redirects followed: Twilio's media
    URLs redirect to their storage)."""
    assert file.url is not None
    try:
        async with client.stream("GET", file.url, auth=file.auth, follow_redirects=True) as response:
            if not response.is_success:
                raise Unfetched(f"the provider answered {response.status_code}")
            chunks, size = [], 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    raise Unfetched(f"it is over {limit // (1024 * 1024)} MiB")
                chunks.append(chunk)
            return b"".join(chunks)
    except httpx.HTTPError as exc:
        raise Unfetched(f"{type(exc).__name__}: {exc}") from exc


async def store(ctx: ServiceContext, conversation_id: int, files: tuple[InboundFile, ...],
                uploader: str) -> tuple[list[int], list[str]]:
    """Store each file for the conversation: the ids of those stored, and a line for each that was
    not ("[a file was not kept: ...]")."""
    if not files:
        return [], []
    ids, lines = [], []
    limit = max(ctx.settings.attachment_limits.values())
    async with httpx.AsyncClient(timeout=ctx.settings.delivery_timeout_seconds) as client:
        for file in files[: ctx.settings.attachment_max_files]:
            try:
                if file.data is None and file.url is None:
                    raise Unfetched("the link is not the provider's, so it was not followed")
                data = file.data if file.data is not None else await fetch(client, file, limit)
                prepared = await anyio.to_thread.run_sync(attachments.prepare, ctx, file.name, data)
                row = await attachments.save(ctx, conversation_id, prepared, uploader=uploader)
            except Unfetched as exc:
                log.warning("conversation %s: %s could not be fetched: %s", conversation_id, file.name, exc)
                lines.append(f"[a file was not kept: {file.name} could not be fetched ({exc})]")
                continue
            except ServiceError as exc:
                lines.append(f"[a file was not kept: {exc.message}]")
                continue
            ids.append(row.id)
    skipped = len(files) - ctx.settings.attachment_max_files
    if skipped > 0:
        lines.append(f"[{skipped} more files were not kept: at most {ctx.settings.attachment_max_files} "
                     "go with one message]")
    return ids, lines


CARRIES_BYTES = (Channel.email,)  # the file goes inside the message; the others fetch it from its link


async def outgoing_files(ctx: ServiceContext, message_id: int, channel: Channel) -> tuple[OutgoingFile, ...]:
    """The files of an outgoing message as its channel sends them: with a signed link that expires
    (``attachment_link_hours``), and the bytes for email."""
    rows = await ctx.read(attachments.of_message, message_id)
    found = []
    for row in rows:
        try:
            data = (await attachments.content(ctx, row))[0] if channel in CARRIES_BYTES else None
        except ServiceError as exc:  # the store lost it: trying again will not bring it back
            raise DeliveryError(exc.message, retryable=False) from exc
        found.append(OutgoingFile(filename=row.filename, content_type=row.content_type, category=row.category,
                                  size=row.size, url=attachments.link(ctx, row), data=data))
    return tuple(found)
