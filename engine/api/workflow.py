"""Operator workflow routes: presence, the queue, canned replies, drafts, context and metrics.

Each route parses, checks the operator, and calls the service (`engine.service.presence`,
`queue`, `canned`, `drafts`, `context`, `metrics`).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from engine.api.deps import Ctx, CurrentOperator
from engine.models import Operator, OperatorPublic
from engine.service import presence, queue

router = APIRouter(tags=["workflow"])


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PresenceRequest(_Body):
    status: Literal["online", "away", "offline"]


class QueueEntry(BaseModel):
    conversation_id: int
    position: int
    wait_seconds: float | None


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
    """The live queue, most urgent first, with each conversation's estimated wait."""
    view = await ctx.read(queue.current, ctx.settings)
    return QueueResponse(queued=len(view.estimates), entries=[
        QueueEntry(conversation_id=e.conversation_id, position=e.position, wait_seconds=e.wait_seconds)
        for e in view.estimates])

