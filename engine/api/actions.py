"""Account context and actions on accounts (refunds, fee waivers, deadline extensions) for operators.

Each route parses, checks the operator and calls ``engine.service.account`` (the lookup) or
``engine.service.actions`` (asking, approving, performing, the audit). docs/integrations.md.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from engine.api import errors
from engine.api.deps import Ctx, CurrentOperator, IdPath
from engine.models import AccountActionPublic, ActionStatus
from engine.service import account, actions
from engine.validation import CleanInput, Text

router = APIRouter(prefix="/api", tags=["actions"],
                   responses=errors.responses(400, 401, 403, 404, 409, 413))


class ActionsView(BaseModel):
    currency: str
    specs: list[actions.ActionSpecPublic]  # what this operator may do, with their own limits
    actions: list[AccountActionPublic]  # the conversation's actions, oldest first (its audit)


class DecisionRequest(CleanInput):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(default="", max_length=2000)


class ActionBody(actions.ActionRequest, CleanInput):
    """An action request as an operator sends it (no NUL or lone surrogate in its text)."""


@router.get("/operator/conversations/{conversation_id}/account")
async def conversation_account(
    ctx: Ctx,
    operator: CurrentOperator,
    conversation_id: IdPath,
    search: Annotated[Text | None, Query(min_length=3, max_length=320)] = None,
) -> account.AccountView:
    """The visitor's account and orders from the integration (by the email, phone or order number
    the conversation holds, or ``search``), with the actions the conversation calls for."""
    return await account.account_view(ctx, conversation_id, search)


@router.get("/operator/conversations/{conversation_id}/actions")
async def conversation_actions(ctx: Ctx, operator: CurrentOperator, conversation_id: IdPath) -> ActionsView:
    found = await ctx.read(actions.for_conversation, ctx.settings, conversation_id)
    return ActionsView(
        currency=ctx.settings.integration_currency,
        actions=found,
        specs=actions.specs_for(ctx.settings, operator.role),
    )


@router.post(
    "/operator/conversations/{conversation_id}/actions",
    responses={
        202: {
            "model": AccountActionPublic,
            "description": "Over the asker's limit: it waits "
            "for approval by someone named in ``approvers``; nothing was done",
        }
    },
)
async def request_action(
    ctx: Ctx, operator: CurrentOperator, conversation_id: IdPath, body: ActionBody, response: Response
) -> AccountActionPublic:
    """Perform an action within the operator's limit (200, with the shop's answer), or ask for
    approval above it (202). The same ``idempotency_key`` again returns the first request."""
    done = await actions.request(ctx, conversation_id, operator.id, body)
    if done.status == ActionStatus.awaiting_approval:
        response.status_code = status.HTTP_202_ACCEPTED
    return done


@router.post("/actions/{action_id}/approve")
async def approve_action(
    ctx: Ctx, operator: CurrentOperator, action_id: IdPath, body: DecisionRequest
) -> AccountActionPublic:
    return await actions.approve(ctx, action_id, operator.id, body.note)


@router.post("/actions/{action_id}/reject")
async def reject_action(
    ctx: Ctx, operator: CurrentOperator, action_id: IdPath, body: DecisionRequest
) -> AccountActionPublic:
    return await actions.reject(ctx, action_id, operator.id, body.note)


@router.post("/actions/{action_id}/retry")
async def retry_action(ctx: Ctx, operator: CurrentOperator, action_id: IdPath) -> AccountActionPublic:
    return await actions.retry(ctx, action_id, operator.id)


@router.get("/actions")
async def action_audit(
    ctx: Ctx,
    operator: CurrentOperator,
    status: ActionStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=actions.AUDIT_LIMIT)] = 50,
) -> list[AccountActionPublic]:
    """The newest actions in every conversation: who asked, what, how much, who approved, the result."""
    return await ctx.read(actions.audit, ctx.settings, status, limit)
