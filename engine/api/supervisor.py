"""Supervisor controls at runtime: a conversation's priority in the queue, a contact's VIP flag, an
operator's team and capacity, a team's overflow, and reassigning a conversation to another operator.

Supervisors and admins. Each route parses, checks the role and calls the service
(``conversations.set_priority``, ``admin.set_vip``, ``admin.update_operator``/``update_team`` with
only the fields a supervisor may change, ``conversations.transfer`` with an audit reason), which
audits the change and pushes it live; then the workflow's routing pass, so the queue's order and
positions follow at once.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from engine.api import errors
from engine.api.deps import Ctx, CurrentLead, IdPath
from engine.models import ConversationPublic, OperatorPublic, TeamPublic
from engine.service import admin, conversations, workflow
from engine.service.errors import Invalid
from engine.validation import CleanInput

router = APIRouter(prefix="/api/supervisor", tags=["supervisor"],
                   responses=errors.responses(401, 403, 404, 409, 422))


class PriorityRequest(CleanInput):
    model_config = ConfigDict(extra="forbid")
    priority: int = Field(ge=0, le=5, description="0 normal; a level is worth priority_step_seconds waited")
    reason: str = Field(default="", max_length=500)


class VipRequest(CleanInput):
    model_config = ConfigDict(extra="forbid")
    vip: bool
    reason: str = Field(default="", max_length=500)


class StaffingRequest(CleanInput):
    """What a supervisor changes of an operator: the team (or none) and the capacity."""

    model_config = ConfigDict(extra="forbid")
    team_id: int | None = Field(default=None, ge=1)
    clear_team: bool = False
    capacity: int | None = Field(default=None, ge=0, le=100)
    reason: str = Field(default="", max_length=500)


class OverflowRequest(CleanInput):
    """Open a team's overflow (to ``backup_team_id`` after ``overflow_after_seconds``) or close it."""

    model_config = ConfigDict(extra="forbid")
    backup_team_id: int | None = Field(default=None, ge=1)
    close: bool = False
    overflow_after_seconds: int | None = Field(default=None, ge=0, le=86400)
    reason: str = Field(default="", max_length=500)


class ReassignRequest(CleanInput):
    model_config = ConfigDict(extra="forbid")
    operator_id: int = Field(ge=1, description="an operator who is available now")
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


@router.patch("/operators/{operator_id}")
async def change_staffing(ctx: Ctx, lead: CurrentLead, operator_id: IdPath,
                          body: StaffingRequest) -> OperatorPublic:
    """Move an operator to another team (or out of any) and change their capacity; audited, live."""
    change = admin.OperatorChange(**body.model_dump())
    operator = await admin.update_operator(ctx, lead.id, operator_id, change)
    await workflow.route(ctx)
    return OperatorPublic.model_validate(operator, from_attributes=True)


@router.patch("/teams/{team_id}/overflow")
async def change_overflow(ctx: Ctx, lead: CurrentLead, team_id: IdPath, body: OverflowRequest) -> TeamPublic:
    """Open (a backup team, optionally a new timeout) or close (``close``) a team's overflow."""
    if body.close == (body.backup_team_id is not None):
        raise Invalid("give either backup_team_id (open the overflow) or close: true")
    change = admin.TeamChange(backup_team_id=body.backup_team_id, clear_backup=body.close,
                              overflow_after_seconds=body.overflow_after_seconds, reason=body.reason)
    team = await admin.update_team(ctx, lead.id, team_id, change)
    await workflow.route(ctx)
    return TeamPublic.model_validate(team, from_attributes=True)


@router.post("/conversations/{conversation_id}/reassign")
async def reassign(ctx: Ctx, lead: CurrentLead, conversation_id: IdPath,
                   body: ReassignRequest) -> ConversationPublic:
    """Give a queued or assigned conversation to another available operator (409 names who is not
    available); the transfer the operators use, audited with the reason."""
    moved = await conversations.transfer(ctx, conversation_id, lead.id, to_operator_id=body.operator_id,
                                         to_team_id=None, audit_reason=body.reason)
    await workflow.route(ctx)
    return ConversationPublic.model_validate(moved, from_attributes=True)
