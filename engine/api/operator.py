"""Operator REST routes. Each parses, checks the operator, and calls one action of the service."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field

from engine.api import errors, limits
from engine.api.deps import Ctx, CurrentOperator, IdPath
from engine.models import ConversationPublic, MessagePublic, OperatorPublic
from engine.service import conversations, operators, presence, queries
from engine.validation import INT_MAX, CleanInput, Id, MessageText, Text

router = APIRouter(prefix="/api/operator", tags=["operator"],
                   responses=errors.responses(400, 401, 403, 404, 409, 413, 429))


class _Body(CleanInput):
    model_config = ConfigDict(extra="forbid")


class LoginRequest(_Body):
    email: str = Field(max_length=320)
    password: str = Field(max_length=200)


class LoginResponse(BaseModel):
    token: str
    operator: OperatorPublic
    expires_in: int


ReplyChannel = Literal["web", "sms", "email", "messenger", "instagram"]


class ReplyRequest(_Body):
    """Text, files uploaded before (``attachment_ids``, from ``.../attachments``), or both."""

    attachment_ids: list[Id] = Field(default=[], max_length=50)
    text: MessageText
    client_id: str | None = Field(default=None, min_length=1, max_length=64)
    draft_id: Id | None = None
    channel: ReplyChannel | None = Field(
        default=None, description="leave on this channel instead of the one the customer last used")


class NoteRequest(_Body):
    attachment_ids: list[Id] = Field(default=[], max_length=50)
    text: MessageText


class TagsRequest(_Body):
    add: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(default=[], max_length=50)
    remove: list[str] = Field(default=[], max_length=50)


class TransferRequest(_Body):
    operator_id: Id | None = None
    team_id: Id | None = None
    note: str | None = Field(default=None, max_length=20_000)


def _public(conversation: object) -> ConversationPublic:
    return ConversationPublic.model_validate(conversation, from_attributes=True)


@router.post("/login", dependencies=[Depends(limits.login_attempt)])
async def login(ctx: Ctx, request: Request, body: LoginRequest) -> LoginResponse:
    """An account over its failed logins is refused (429) before its password is hashed: argon2
    costs ~0.3 s of CPU a try, so unlimited wrong logins would be a way to exhaust the server."""
    limiter, identity = limits.of(request.app), body.email.strip().lower()
    await limiter.check("login_failures", identity)
    operator = await ctx.read(operators.authenticate, body.email, body.password)
    if operator is None:
        await limiter.hit("login_failures", identity)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="wrong email or password")
    await limiter.clear("login_failures", identity)
    ttl = ctx.settings.operator_token_ttl_seconds
    return LoginResponse(token=operators.issue_token(ctx.settings.secret_key, operator.id, ttl),
                         operator=OperatorPublic.model_validate(operator, from_attributes=True),
                         expires_in=ttl)


@router.get("/me")
async def me(operator: CurrentOperator) -> OperatorPublic:
    return OperatorPublic.model_validate(operator, from_attributes=True)


@router.get("/conversations")
async def list_conversations(ctx: Ctx, operator: CurrentOperator, state: queries.ListFilter = "queued",
                             channel: Annotated[Text | None, Query(max_length=16)] = None,
                             team_id: Annotated[int | None, Query(ge=1, le=INT_MAX)] = None,
                             tag: Annotated[Text | None, Query(max_length=64)] = None,
                             q: Annotated[Text | None, Query(max_length=200)] = None,
                             sort: queries.ListSort | None = None) -> list[queries.ConversationSummary]:
    """The operator's list: ``state`` (or ``mine``), ``channel``, ``team_id``, ``tag``, a search ``q``
    over messages and contacts, ``sort`` by ``waiting`` (longest first), ``newest`` or ``priority``."""
    wanted = queries.ListQuery(which=state, channel=channel, team_id=team_id, tag=tag, q=q, sort=sort)
    return await ctx.read(queries.list_conversations, ctx.settings, wanted, operator.id)


@router.get("/conversations/{conversation_id}")
async def conversation_detail(ctx: Ctx, operator: CurrentOperator,
                              conversation_id: IdPath) -> queries.ConversationDetail:
    return await ctx.read(queries.conversation_detail, ctx.settings, conversation_id)


@router.post("/conversations/{conversation_id}/claim")
async def claim(ctx: Ctx, operator: CurrentOperator, conversation_id: IdPath) -> ConversationPublic:
    return _public(await conversations.claim(ctx, conversation_id, operator.id))


@router.post("/conversations/{conversation_id}/takeover")
async def take_over(ctx: Ctx, operator: CurrentOperator, conversation_id: IdPath) -> ConversationPublic:
    """Take a conversation from the operator who owns it (both are told); a claim if nobody does."""
    return _public(await conversations.take_over(ctx, conversation_id, operator.id))


class ViewingRequest(_Body):
    on: bool


@router.post("/conversations/{conversation_id}/viewing", status_code=status.HTTP_204_NO_CONTENT)
async def viewing(ctx: Ctx, operator: CurrentOperator, conversation_id: IdPath, body: ViewingRequest) -> None:
    """This operator has the conversation open (``on``) or left it: the others following it are told."""
    await presence.viewing(ctx, conversation_id, operator.id, body.on)


@router.post("/conversations/{conversation_id}/reply")
async def reply(ctx: Ctx, operator: CurrentOperator, conversation_id: IdPath,
                body: ReplyRequest) -> MessagePublic:
    message = await conversations.reply(ctx, conversation_id, operator.id, body.text, body.client_id,
                                        body.draft_id, body.attachment_ids, channel=body.channel)
    return conversations.public(message)


@router.post("/conversations/{conversation_id}/note")
async def note(ctx: Ctx, operator: CurrentOperator, conversation_id: IdPath,
               body: NoteRequest) -> MessagePublic:
    return conversations.public(await conversations.note(ctx, conversation_id, operator.id, body.text,
                                                         body.attachment_ids))


@router.post("/conversations/{conversation_id}/tags")
async def tags(ctx: Ctx, operator: CurrentOperator, conversation_id: IdPath,
               body: TagsRequest) -> ConversationPublic:
    return _public(await conversations.tag(ctx, conversation_id, operator.id, body.add, body.remove))


@router.post("/conversations/{conversation_id}/transfer")
async def transfer(ctx: Ctx, operator: CurrentOperator, conversation_id: IdPath,
                   body: TransferRequest) -> ConversationPublic:
    moved = await conversations.transfer(ctx, conversation_id, operator.id, to_operator_id=body.operator_id,
                                         to_team_id=body.team_id, note_text=body.note)
    return _public(moved)


@router.post("/conversations/{conversation_id}/handback")
async def handback(ctx: Ctx, operator: CurrentOperator, conversation_id: IdPath) -> ConversationPublic:
    return _public(await conversations.hand_back(ctx, conversation_id, operator.id))


@router.post("/conversations/{conversation_id}/resolve")
async def resolve(ctx: Ctx, operator: CurrentOperator, conversation_id: IdPath) -> ConversationPublic:
    actor = conversations.operator_actor(operator.id)
    return _public(await conversations.resolve(ctx, conversation_id, actor))


@router.post("/conversations/{conversation_id}/reopen")
async def reopen(ctx: Ctx, operator: CurrentOperator, conversation_id: IdPath) -> ConversationPublic:
    return _public(await conversations.reopen(ctx, conversation_id, operator.id))


@router.get("/conversations/{conversation_id}/messages")
async def messages(ctx: Ctx, operator: CurrentOperator, conversation_id: IdPath,
                   after: Annotated[int, Query(ge=0, le=INT_MAX)] = 0) -> list[MessagePublic]:
    """Every message after ``after``, internal notes included (operators only)."""
    return await ctx.read(queries.operator_messages, conversation_id, after)
