"""Supervisor controls at runtime: a conversation's priority in the queue and a contact's VIP flag.

Supervisors and admins. Each route parses, checks the role and calls the service
(``conversations.set_priority``, ``admin.set_vip``), which audits the change and pushes it live;
then the workflow's routing pass, so the queue's order and positions follow at once.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from engine.api import errors
from engine.api.deps import Ctx, CurrentLead, IdPath
from engine.service import admin, conversations, workflow
from engine.validation import CleanInput

router = APIRouter(prefix="/api/supervisor", tags=["supervisor"],
                   responses=errors.responses(401, 403, 404, 422))


class PriorityRequest(CleanInput):
    model_config = ConfigDict(extra="forbid")
    priority: int = Field(ge=0, le=5, description="0 normal; a level is worth priority_step_seconds waited")
    reason: str = Field(default="", max_length=500)


class VipRequest(CleanInput):
    model_config = ConfigDict(extra="forbid")
    vip: bool
    reason: str = Field(default="", max_length=500)


class Changed(BaseModel):
    id: int
    priority: int | None = None
    vip: bool | None = None


@router.post("/conversations/{conversation_id}/priority")
async def set_priority(ctx: Ctx, lead: CurrentLead, conversation_id: IdPath,
                       body: PriorityRequest) -> Changed:
    conversation = await conversations.set_priority(ctx, conversation_id, lead.id, body.priority, body.reason)
    await workflow.route(ctx)
    return Changed(id=conversation.id, priority=conversation.priority)


@router.post("/contacts/{contact_id}/vip")
async def set_vip(ctx: Ctx, lead: CurrentLead, contact_id: IdPath, body: VipRequest) -> Changed:
    contact = await admin.set_vip(ctx, lead.id, contact_id, body.vip, body.reason)
    await workflow.route(ctx)
    return Changed(id=contact.id, vip=contact.vip)
