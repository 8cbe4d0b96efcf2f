"""Attachments: a file is checked from its bytes, stored, then sent on one message; and who may read
it. State changes here run in the caller's transaction (``attach``) or their own (``upload``).

Who reads a file follows who reads its message:

* a visitor (the conversation's token) reads the public files of their own conversation, and their
  own uploads not sent yet; never an operator's upload before it is sent, never a note's file;
* an operator reads every file of any conversation, as they read every message (notes included);
* a provider (Twilio, the Messenger platform) fetching an outgoing file, or an SMS visitor opening
  a link, presents a signed link that expires (``engine.files.links``).

Any other attachment id answers 404 (``NotFound``) whether or not it exists, so ids say nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import anyio.to_thread
from sqlmodel import Session, col, func, select

from engine import files
from engine.models import Attachment, AttachmentPublic, Conversation, Visibility, utcnow
from engine.service.errors import Invalid, NotFound, ServiceError
from engine.service.runtime import ServiceContext
from engine.settings import MiB

VISITOR = "visitor"


class TooLarge(ServiceError):
    status_code = 413


class Unsupported(ServiceError):
    status_code = 415


_REFUSALS: dict[int, type[ServiceError]] = {413: TooLarge, 415: Unsupported, 422: Invalid}


@dataclass(frozen=True)
class Prepared:
    """A checked file with its thumbnail, made off the event loop before anything is stored."""

    checked: files.Checked
    data: bytes
    sha256: str
    thumbnail: tuple[bytes, str] | None


def store_of(ctx: ServiceContext) -> files.FileStore:
    """The configured store (a folder or a bucket), made on first use."""
    if ctx.files is None:
        ctx.files = files.store_from_settings(ctx.settings)
    return ctx.files


def public(row: Attachment) -> AttachmentPublic:
    return AttachmentPublic(id=row.id, filename=row.filename, content_type=row.content_type,
                            category=row.category, size=row.size, width=row.width, height=row.height,
                            thumbnail=row.thumbnail_key is not None)


def prepare(ctx: ServiceContext, filename: str | None, data: bytes) -> Prepared:
    """Check ``data`` (type from the bytes, the allow-list, the size limit of its category) and
    draw its thumbnail. Blocking: run it in a thread. Raises 413, 415 or 422 naming the problem."""
    try:
        checked = files.check(filename, data, ctx.settings.attachment_limits)
    except files.FileRefused as refused:
        raise _REFUSALS[refused.status](refused.message) from None
    thumb = files.thumbnail(data) if checked.image else None
    return Prepared(checked, data, hashlib.sha256(data).hexdigest(), thumb)


async def upload(ctx: ServiceContext, conversation_id: int, filename: str | None, data: bytes, *,
                 uploader: str) -> Attachment:
    """Store a file for ``conversation_id``, not yet sent on a message. ``uploader`` is
    ``visitor``, ``operator:<id>`` or the channel a file came in on."""
    prepared = await anyio.to_thread.run_sync(prepare, ctx, filename, data)
    return await save(ctx, conversation_id, prepared, uploader=uploader)


def held(session: Session, conversation_id: int) -> int:
    """Bytes of files the conversation holds (sent or not)."""
    total = session.exec(select(func.coalesce(func.sum(Attachment.size), 0))
                         .where(Attachment.conversation_id == conversation_id)).one()
    return int(total)


async def save(ctx: ServiceContext, conversation_id: int, prepared: Prepared, *, uploader: str) -> Attachment:
    """Store the bytes, then the row; refused (413) when the conversation would hold more than
    ``attachment_conversation_bytes``."""
    quota = ctx.settings.attachment_conversation_bytes
    if quota:
        holds = await ctx.read(held, conversation_id)
        if holds + prepared.checked.size > quota:
            raise TooLarge(f"this conversation already holds {holds / MiB:.1f} MiB of files; a conversation "
                           f"may hold at most {quota / MiB:g} MiB")
    store = store_of(ctx)
    key = f"{conversation_id}/{secrets.token_hex(16)}"
    await store.put(key, prepared.data, prepared.checked.content_type)
    thumbnail_key = None
    if prepared.thumbnail is not None:
        thumbnail_key = f"{key}-thumb"
        await store.put(thumbnail_key, *prepared.thumbnail)
    checked = prepared.checked

    def work(session: Session, _outbox: Any) -> Attachment:
        if session.get(Conversation, conversation_id) is None:
            raise NotFound(f"conversation {conversation_id} does not exist")
        row = Attachment(conversation_id=conversation_id, uploader=uploader, filename=checked.filename,
                         content_type=checked.content_type, category=checked.category, size=checked.size,
                         sha256=prepared.sha256, width=checked.width, height=checked.height, storage_key=key,
                         thumbnail_key=thumbnail_key,
                         thumbnail_type=prepared.thumbnail[1] if prepared.thumbnail else None)
        session.add(row)
        session.flush()
        return row

    try:
        return await ctx.act(work)
    except BaseException:
        await store.delete(key)  # nothing points at the bytes: leave none behind
        if thumbnail_key:
            await store.delete(thumbnail_key)
        raise


def attach(session: Session, conversation_id: int, ids: Sequence[int], *, uploader: str,
           limit: int) -> list[Attachment]:
    """Inside the transaction that stores a message: the uploads it carries, checked to be this
    uploader's unsent files in this conversation, locked. The caller sets their message with
    :func:`sent_on` once the message has its id."""
    wanted = list(dict.fromkeys(ids))
    if len(wanted) > limit:
        raise Invalid(f"a message carries at most {limit} files; this one has {len(wanted)}")
    if not wanted:
        return []
    rows = {row.id: row for row in session.exec(
        select(Attachment).where(col(Attachment.id).in_(wanted)).with_for_update()).all()}
    for attachment_id in wanted:
        row = rows.get(attachment_id)
        if row is None or row.conversation_id != conversation_id or row.uploader != uploader:
            raise Invalid(f"attachment {attachment_id} is not a file you uploaded to this conversation")
        if row.message_id is not None:
            raise Invalid(f"attachment {attachment_id} was already sent on message {row.message_id}")
    return [rows[i] for i in wanted]


def sent_on(session: Session, rows: list[Attachment], message_id: int, visibility: str) -> None:
    for row in rows:
        row.message_id, row.visibility = message_id, visibility
        session.add(row)


def visitor_readable(session: Session, conversation_id: int, attachment_id: int) -> Attachment:
    """A file the visitor of ``conversation_id`` may read (see the module's rules), else 404."""
    row = session.get(Attachment, attachment_id)
    if (row is None or row.conversation_id != conversation_id or row.visibility != Visibility.public
            or (row.message_id is None and row.uploader != VISITOR)):
        raise NotFound(f"attachment {attachment_id} is not in this conversation")
    return row


def operator_readable(session: Session, attachment_id: int) -> Attachment:
    row = session.get(Attachment, attachment_id)
    if row is None:
        raise NotFound(f"attachment {attachment_id} does not exist")
    return row


def linked_readable(session: Session, attachment_id: int) -> Attachment:
    """A file behind a valid signed link: only files sent publicly on a message are ever linked."""
    row = session.get(Attachment, attachment_id)
    if row is None or row.message_id is None or row.visibility != Visibility.public:
        raise NotFound(f"attachment {attachment_id} does not exist")
    return row


def of_message(session: Session, message_id: int) -> list[Attachment]:
    return list(session.exec(select(Attachment).where(Attachment.message_id == message_id)
                             .order_by(col(Attachment.id))).all())


async def content(ctx: ServiceContext, row: Attachment, *, thumbnail: bool = False) -> tuple[bytes, str]:
    """The file's bytes and content type (the thumbnail's when asked and there is one)."""
    key, kind = row.storage_key, row.content_type
    if thumbnail:
        if row.thumbnail_key is None:
            raise NotFound(f"attachment {row.id} has no thumbnail (only images have one)")
        key, kind = row.thumbnail_key, row.thumbnail_type or "image/jpeg"
    try:
        return await store_of(ctx).get(key), kind
    except files.FileMissing as exc:
        raise NotFound(f"the bytes of attachment {row.id} are no longer in the store") from exc


async def sweep_unsent(ctx: ServiceContext, now: datetime | None = None, batch: int = 200) -> int:
    """Delete uploads never sent on a message within ``attachment_unsent_hours`` (a visitor who
    closed the page mid-way, an operator who took a file off the reply box): rows, then bytes."""
    cutoff = (now or utcnow()) - timedelta(hours=ctx.settings.attachment_unsent_hours)

    def stale(session: Session) -> list[int]:
        return list(session.exec(select(Attachment.id).where(col(Attachment.message_id).is_(None),
                                                              col(Attachment.created_at) < cutoff)
                                 .order_by(col(Attachment.id)).limit(batch)).all())

    found = await ctx.read(stale)  # a read first: most ticks find none and take no write lock
    if not found:
        return 0

    def work(session: Session, _outbox: Any) -> list[tuple[str, str | None]]:
        rows = session.exec(select(Attachment).where(col(Attachment.id).in_(found),
                                                     col(Attachment.message_id).is_(None))
                            .with_for_update()).all()  # still unsent: not sent meanwhile
        keys = [(row.storage_key, row.thumbnail_key) for row in rows]
        for row in rows:
            session.delete(row)
        return keys

    keys = await ctx.act(work)
    store = store_of(ctx)
    for key, thumbnail_key in keys:
        await store.delete(key)
        if thumbnail_key:
            await store.delete(thumbnail_key)
    return len(keys)


def link(ctx: ServiceContext, row: Attachment) -> str | None:
    """A signed link to ``row`` that expires after ``attachment_link_hours``; None when the server
    does not know its public address (``public_url``), since a provider could not reach it."""
    if not ctx.settings.public_url:
        return None
    return files.links.make(ctx.settings.public_url, ctx.settings.secret_key, row.id, row.filename,
                            ctx.settings.attachment_link_hours * 3600)
