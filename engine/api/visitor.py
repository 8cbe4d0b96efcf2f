"""Visitor REST routes: start a conversation, send, read, rate. The token scopes every call to one
conversation; internal notes never appear in these payloads (the queries exclude them)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import httpx
from fastapi import APIRouter, Depends, Query, Request, status
from pydantic import BaseModel, ConfigDict, EmailStr, Field
from sqlmodel import Session

from engine.api import errors, limits
from engine.api.deps import Ctx, VisitorConversation
from engine.channels import sms
from engine.channels.email import SmtpTransport
from engine.events import QueueInfo
from engine.models import Channel, Conversation, MessagePublic, State
from engine.service import confirmation, conversations, queries, queue, workflow
from engine.service.errors import Conflict
from engine.validation import INT_MAX, CleanInput, Id, MessageText, PhoneNumber

router = APIRouter(prefix="/api/visitor", tags=["visitor"], dependencies=[Depends(limits.per_address)],
                   responses=errors.responses(400, 401, 409, 413, 429))


class StartRequest(CleanInput):
    """A widget conversation. ``email`` is a contact detail the visitor typed, unverified: it is
    never where replies go. Email, SMS and Messenger conversations start only from their channel's
    webhook, so a visitor cannot make the server write to an address of their choosing."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    channel: Literal["web"] = Field(default="web", description="always 'web' on this endpoint")


class StartResponse(BaseModel):
    conversation_id: int
    token: str
    state: State


class SendRequest(CleanInput):
    """Text, files uploaded before (``attachment_ids``, from ``POST /api/visitor/attachments``), or both."""

    model_config = ConfigDict(extra="forbid")

    attachment_ids: list[Id] = Field(default=[], max_length=50)
    text: MessageText
    client_id: str | None = Field(default=None, min_length=1, max_length=64)


class SendResponse(BaseModel):
    message: MessagePublic
    replies: list[MessagePublic]
    duplicate: bool = False


class HistoryResponse(BaseModel):
    messages: list[MessagePublic]
    state: State
    queue: QueueInfo | None = None


class CsatRequest(CleanInput):
    model_config = ConfigDict(extra="forbid")

    score: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=2000)


@router.post("/conversations", status_code=status.HTTP_201_CREATED,
             dependencies=[Depends(limits.conversation_start)])
async def start_conversation(ctx: Ctx, body: StartRequest | None = None) -> StartResponse:
    body = body or StartRequest()
    conversation, token = await conversations.start(ctx, name=body.name, email=body.email)
    return StartResponse(conversation_id=conversation.id, token=token, state=conversation.state)


@router.post("/messages")
async def send_message(ctx: Ctx, request: Request, conversation: VisitorConversation,
                       body: SendRequest) -> SendResponse:
    await limits.of(request.app).hit("messages", str(conversation.id))
    turn = await workflow.receive(ctx, conversation.id, body.text, body.client_id, body.attachment_ids)
    return SendResponse(message=conversations.public(turn.message),
                        replies=[conversations.public(m) for m in turn.replies], duplicate=turn.duplicate)


@router.get("/messages")
async def read_messages(ctx: Ctx, conversation: VisitorConversation,
                        after: Annotated[int, Query(ge=0, le=INT_MAX)] = 0) -> HistoryResponse:
    def work(session: Session) -> HistoryResponse:
        current = session.get(Conversation, conversation.id)
        return HistoryResponse(messages=queries.visitor_messages(session, conversation.id, after),
                               state=current.state,
                               queue=queue.queue_info(session, ctx.settings, current))

    return await ctx.read(work)


@router.get("/team")
async def team(ctx: Ctx, conversation: VisitorConversation) -> queries.VisitorTeam:
    """Who is helping (name and picture of the operator who has the conversation), who from the team
    wrote in it, and how soon a person typically replies (median of recent first responses)."""
    return await ctx.read(queries.visitor_team, ctx.settings, conversation.id)


@router.post("/csat", status_code=status.HTTP_204_NO_CONTENT)
async def rate(ctx: Ctx, conversation: VisitorConversation, body: CsatRequest) -> None:
    await conversations.record_csat(ctx, conversation.id, body.score, body.comment)


class EmailRequest(CleanInput):
    """The address to confirm. Checked by ``email-validator`` (syntax only, no DNS), one line."""

    model_config = ConfigDict(extra="forbid")

    email: EmailStr = Field(max_length=320)


class PhoneRequest(CleanInput):
    """The number to confirm, with + and the country code; checked by ``phonenumbers`` (a real
    number, not only a possible one) and kept in E.164."""

    model_config = ConfigDict(extra="forbid")

    phone: PhoneNumber


class EmailPending(BaseModel):
    email: str
    verified: Literal[False] = False
    expires_at: datetime


class PhonePending(BaseModel):
    phone: str
    verified: Literal[False] = False
    expires_at: datetime


class ConfirmRequest(CleanInput):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[0-9]{6}$", description="the six digits from the confirmation mail or SMS")


class EmailVerified(BaseModel):
    email: str
    verified: Literal[True] = True
    verified_at: datetime


class PhoneVerified(BaseModel):
    phone: str
    verified: Literal[True] = True
    verified_at: datetime


async def send_code(ctx: Ctx, request: Request, conversation: VisitorConversation, channel: Channel,
                    address: str) -> confirmation.Pending:
    """Send one confirmation code to ``address`` on ``channel`` (a new request replaces that
    channel's pending code). Counted per conversation and per address, each channel apart
    (``limit_email_codes``): 429 past it, before anything is sent. SMS goes from ``sms_from``."""
    limiter = limits.of(request.app)
    await limiter.hit("codes", f"{channel}:conversation:{conversation.id}")
    await limiter.hit("codes", f"{channel}:address:{address}")
    if channel == Channel.email:
        return await confirmation.request(ctx, conversation.id, channel, address,
                                          SmtpTransport(ctx.settings).send_notice)
    if not sms.configured(ctx.settings):  # lasting, not an outage: a 409 the widget shows, not a 503
        raise Conflict("this desk does not send SMS (BATON_SMS_ACCOUNT_SID, BATON_SMS_AUTH_TOKEN and "
                       "BATON_SMS_FROM are not all set): confirm an email address instead")
    async with httpx.AsyncClient(timeout=ctx.settings.delivery_timeout_seconds) as client:
        return await confirmation.request(ctx, conversation.id, channel, address,
                                          sms.TwilioTransport(ctx.settings, client).send_notice)


@router.post("/email", status_code=status.HTTP_202_ACCEPTED, responses=errors.responses(503))
async def request_email_confirmation(ctx: Ctx, request: Request, conversation: VisitorConversation,
                                     body: EmailRequest) -> EmailPending:
    """Mail one confirmation code to the visitor's address (:func:`send_code`)."""
    pending = await send_code(ctx, request, conversation, Channel.email, body.email.lower())
    return EmailPending(email=pending.address, expires_at=pending.expires_at)


@router.post("/email/confirm")
async def confirm_email(ctx: Ctx, conversation: VisitorConversation, body: ConfirmRequest) -> EmailVerified:
    """The code from the mail: the address becomes the contact's verified email identity. A wrong,
    expired or used-up code is a 422 saying which."""
    verified = await confirmation.confirm(ctx, conversation.id, Channel.email, body.code)
    return EmailVerified(email=verified.address, verified_at=verified.verified_at)


@router.post("/phone", status_code=status.HTTP_202_ACCEPTED, responses=errors.responses(503))
async def request_phone_confirmation(ctx: Ctx, request: Request, conversation: VisitorConversation,
                                     body: PhoneRequest) -> PhonePending:
    """Text one confirmation code to the visitor's number (:func:`send_code`); 409 when this desk
    does not send SMS, 503 when the provider does not take it (the code is then withdrawn)."""
    pending = await send_code(ctx, request, conversation, Channel.sms, body.phone)
    return PhonePending(phone=pending.address, expires_at=pending.expires_at)


@router.post("/phone/confirm")
async def confirm_phone(ctx: Ctx, conversation: VisitorConversation, body: ConfirmRequest) -> PhoneVerified:
    """The code from the SMS: the number becomes the contact's verified SMS identity, where a
    person's reply goes once the visitor left the page and no email is confirmed. A wrong, expired
    or used-up code is a 422 saying which."""
    verified = await confirmation.confirm(ctx, conversation.id, Channel.sms, body.code)
    return PhoneVerified(phone=verified.address, verified_at=verified.verified_at)
