"""Operator workflow routes: presence, the queue, canned replies, drafts, context and metrics.

Each route parses, checks the operator, and calls the service (`engine.service.presence`,
`queue`, `canned`, `drafts`, `context`, `metrics`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict
from sqlmodel import Session, col, select

from engine.api import errors
from engine.api.deps import Ctx, CurrentOperator, IdPath
from engine.models import CannedResponsePublic, DraftPublic, Operator, OperatorPublic, Team, TeamPublic
from engine.service import canned, context, drafts, metrics, presence, queue
from engine.validation import CleanInput, Text

router = APIRouter(tags=["workflow"], responses=errors.responses(400, 401, 404, 409, 413, 429))


class _Body(CleanInput):
    model_config = ConfigDict(extra="forbid")


class PresenceRequest(_Body):
    status: Literal["online", "away", "offline"]


class QueueEntry(BaseModel):
    """``opens_at``: queued after hours and held until its team opens then (no wait estimated)."""

    conversation_id: int
    position: int
    wait_seconds: float | None
    opens_at: datetime | None = None


class QueueResponse(BaseModel):
    queued: int
    entries: list[QueueEntry]


@router.post("/api/operator/presence")
async def set_presence(ctx: Ctx, operator: CurrentOperator, body: PresenceRequest) -> OperatorPublic:
    """Online takes new conversations; away keeps its own; offline hands them back to the queue."""
    await presence.set_status(ctx, operator.id, body.status)
    fresh = await ctx.read(lambda session: session.get(Operator, operator.id))
    return OperatorPublic.model_validate(fresh, from_attributes=True)


@router.get("/api/queue")
async def get_queue(ctx: Ctx, _operator: CurrentOperator) -> QueueResponse:
    """The live queue, most urgent first, with each conversation's estimated wait; then those held
    after hours, in the order of their team's opening."""
    view = await ctx.read(queue.current, ctx.settings)
    entries = [QueueEntry(conversation_id=e.conversation_id, position=e.position, wait_seconds=e.wait_seconds)
               for e in view.estimates]
    entries += [QueueEntry(conversation_id=conversation_id, position=where.position, wait_seconds=None,
                           opens_at=where.opens_at) for conversation_id, where in view.held_info().items()]
    return QueueResponse(queued=len(entries), entries=entries)


class Roster(BaseModel):
    operators: list[presence.RosterEntry]
    teams: list[TeamPublic]


@router.get("/api/operators")
async def get_roster(ctx: Ctx, _operator: CurrentOperator) -> Roster:
    """Operators with status and load, and the teams: for the supervisor view and transfers."""
    def work(session: Session) -> Roster:
        teams = session.exec(select(Team).order_by(col(Team.name))).all()
        return Roster(operators=presence.roster(session, grace_seconds=ctx.settings.presence_grace_seconds),
                      teams=[TeamPublic.model_validate(t, from_attributes=True) for t in teams])

    return await ctx.read(work)


class RenderedCanned(BaseModel):
    canned_id: int
    text: str
    missing: list[str] = []  # placeholders with no value here, left in ``text`` for the operator to fill


@router.get("/api/operator/canned")
async def search_canned(ctx: Ctx, _operator: CurrentOperator,
                        q: Annotated[Text, Query(max_length=200)] = "") -> list[CannedResponsePublic]:
    """Canned replies by shortcut prefix (``/ref``), then title and text."""
    found = await ctx.read(canned.search, q)
    return [CannedResponsePublic.model_validate(c, from_attributes=True) for c in found]


@router.get("/api/operator/conversations/{conversation_id}/canned/{canned_id}")
async def render_canned(ctx: Ctx, operator: CurrentOperator, conversation_id: IdPath,
                        canned_id: IdPath) -> RenderedCanned:
    """The canned reply with its placeholders filled for this conversation; ``missing`` names those
    this conversation has no value for, left in the text as written (the console blocks sending
    until each is filled). 422 names a placeholder that is unknown."""
    rendered = await ctx.read(canned.render_partial, canned_id, conversation_id, operator.id)
    return RenderedCanned(canned_id=canned_id, text=rendered.text, missing=rendered.missing)


@router.get("/api/operator/conversations/{conversation_id}/context")
async def contact_context(ctx: Ctx, _operator: CurrentOperator,
                          conversation_id: IdPath) -> context.ContactContext:
    """The contact's identities and previous conversations on every channel."""
    return await ctx.read(context.contact_context, conversation_id)


@router.get("/api/operator/conversations/{conversation_id}/drafts")
async def list_drafts(ctx: Ctx, _operator: CurrentOperator, conversation_id: IdPath) -> list[DraftPublic]:
    """AI drafts for the visitor's latest drafted message: answer, canned, continuation. Send one
    (edited or not) with ``draft_id`` on the reply so that its use is recorded."""
    found = await ctx.read(drafts.drafts_for, conversation_id)
    return [DraftPublic.model_validate(d, from_attributes=True) for d in found]


@router.post("/api/operator/conversations/{conversation_id}/drafts", status_code=status.HTTP_202_ACCEPTED)
async def request_drafts(ctx: Ctx, _operator: CurrentOperator, conversation_id: IdPath) -> None:
    """Draft replies to the visitor's latest message if it has none yet; they come as ``draft.created``
    on the conversation's internal stream. The console asks when it opens a conversation and when
    the visitor writes in the one it has open (an owned conversation is drafted for only when asked)."""
    await drafts.request(ctx, conversation_id)


@router.get("/api/metrics")
async def get_metrics(ctx: Ctx, _operator: CurrentOperator,
                      start: Annotated[Text | None, Query(max_length=64)] = None,
                      end: Annotated[Text | None, Query(max_length=64)] = None) -> metrics.Metrics:
    """Metrics over conversations created between ``start`` and ``end`` (ISO; default: 7 days)."""
    begin, stop = metrics.parse_window(start, end)
    return await ctx.read(metrics.compute, begin, stop)
