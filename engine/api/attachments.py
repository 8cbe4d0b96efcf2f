"""Attachment routes: upload a file (multipart ``file``) and read one back, for the visitor (their
conversation token) and operators (their login token), and the signed links that expire, which
providers and SMS visitors follow (``/files/{id}/{name}?expires=&signature=``).

An upload is stored unsent; the message that carries it names it in ``attachment_ids``
(``POST /api/visitor/messages``, the visitor socket's ``message`` frame, ``.../reply``,
``.../note``). Refusals name the problem: 413 over the size limit of the file's category, 415 a
type not accepted or a name that disagrees with the bytes, 422 an empty or unreadable file.
Downloads are sent with ``X-Content-Type-Options: nosniff`` and a sandboxing CSP; only images
and PDFs are shown inline, anything else is a download.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, HTTPException, Query, Request, UploadFile, status
from fastapi.responses import Response

from engine.api import errors, limits
from engine.api.deps import Ctx, CurrentOperator, IdPath, VisitorConversation
from engine.files import links
from engine.models import Attachment, AttachmentPublic
from engine.service import attachments
from engine.service.conversations import operator_actor

INLINE = ("image/", "application/pdf")
_FILE_BODY: dict[int | str, dict[str, Any]] = {
    200: {"description": "The file's bytes, served as the type read from them (image/png, ...)",
          "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}}}
_UPLOAD_REFUSALS = errors.responses(413, 415)

visitor_router = APIRouter(prefix="/api/visitor", tags=["visitor"],
                           dependencies=[Depends(limits.per_address)],
                           responses=errors.responses(400, 401, 404, 413, 429))
operator_router = APIRouter(prefix="/api/operator", tags=["operator"],
                            responses=errors.responses(400, 401, 404, 413, 429))
link_router = APIRouter(tags=["files"], responses=errors.responses(403, 404))

UploadField = Annotated[UploadFile, File(description="the file; its type is read from its bytes")]


async def _read(upload: UploadFile) -> bytes:
    """The upload's bytes; the body limit (``attachment_request_bytes``) already bounds them."""
    data = await upload.read()
    await upload.close()
    return data


def _download(data: bytes, content_type: str, filename: str) -> Response:
    disposition = "inline" if content_type.startswith(INLINE) else "attachment"
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    named = f"filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    return Response(content=data, media_type=content_type, headers={
        "Content-Disposition": f"{disposition}; {named}",
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600",
        "Content-Security-Policy": "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"})


async def _send(ctx: Ctx, row: Attachment, thumbnail: bool) -> Response:
    data, content_type = await attachments.content(ctx, row, thumbnail=thumbnail)
    return _download(data, content_type, row.filename)


# --- visitor ------------------------------------------------------------------------------------

@visitor_router.post("/attachments", status_code=status.HTTP_201_CREATED, responses=_UPLOAD_REFUSALS)
async def visitor_upload(ctx: Ctx, request: Request, conversation: VisitorConversation,
                         file: UploadField) -> AttachmentPublic:
    """Upload one file to this conversation; send it with ``attachment_ids`` on a message."""
    row = await attachments.upload(ctx, conversation.id, file.filename, await _read(file),
                                   uploader=attachments.VISITOR)
    return attachments.public(row)


@visitor_router.get("/attachments/{attachment_id}", response_class=Response, responses=_FILE_BODY)
async def visitor_download(ctx: Ctx, conversation: VisitorConversation, attachment_id: IdPath) -> Response:
    """A file of this conversation: sent publicly, or the visitor's own upload."""
    row = await ctx.read(attachments.visitor_readable, conversation.id, attachment_id)
    return await _send(ctx, row, thumbnail=False)


@visitor_router.get("/attachments/{attachment_id}/thumbnail", response_class=Response, responses=_FILE_BODY)
async def visitor_thumbnail(ctx: Ctx, conversation: VisitorConversation, attachment_id: IdPath) -> Response:
    row = await ctx.read(attachments.visitor_readable, conversation.id, attachment_id)
    return await _send(ctx, row, thumbnail=True)


# --- operator -----------------------------------------------------------------------------------

@operator_router.post("/conversations/{conversation_id}/attachments", status_code=status.HTTP_201_CREATED,
                      responses=_UPLOAD_REFUSALS)
async def operator_upload(ctx: Ctx, operator: CurrentOperator, conversation_id: IdPath,
                          request: Request, file: UploadField) -> AttachmentPublic:
    """Upload one file to a conversation; send it with ``attachment_ids`` on a reply or a note."""
    row = await attachments.upload(ctx, conversation_id, file.filename, await _read(file),
                                   uploader=operator_actor(operator.id))
    return attachments.public(row)


@operator_router.get("/attachments/{attachment_id}", response_class=Response, responses=_FILE_BODY)
async def operator_download(ctx: Ctx, operator: CurrentOperator, attachment_id: IdPath) -> Response:
    row = await ctx.read(attachments.operator_readable, attachment_id)
    return await _send(ctx, row, thumbnail=False)


@operator_router.get("/attachments/{attachment_id}/thumbnail", response_class=Response, responses=_FILE_BODY)
async def operator_thumbnail(ctx: Ctx, operator: CurrentOperator, attachment_id: IdPath) -> Response:
    row = await ctx.read(attachments.operator_readable, attachment_id)
    return await _send(ctx, row, thumbnail=True)


# --- signed links -------------------------------------------------------------------------------

@link_router.get("/files/{attachment_id}/{filename}", response_class=Response, responses=_FILE_BODY,
                 summary="A file behind a signed link that expires (providers, SMS visitors)")
async def linked_file(ctx: Ctx, attachment_id: IdPath, filename: str,
                      expires: Annotated[int, Query(ge=0, le=2**62)],
                      signature: Annotated[str, Query(pattern=r"^[0-9a-f]{64}$",
                                                      description="HMAC-SHA256, hex")]) -> Response:
    """The link names the file and when it expires, signed by this server; ``filename`` is only
    for the reader's benefit (the id decides)."""
    why = links.valid(ctx.settings.secret_key, attachment_id, expires, signature)
    if why is not None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=why)
    row = await ctx.read(attachments.linked_readable, attachment_id)
    return await _send(ctx, row, thumbnail=False)


__all__ = ["link_router", "operator_router", "visitor_router"]
