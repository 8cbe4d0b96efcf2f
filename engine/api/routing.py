"""Routing inputs through the API: set or correct a conversation's language, topics and region, and a
contact's region and customer value.

The routes parse and authorise, call ``conversations.set_routing`` or ``admin.set_contact_routing``
(the state change) and then the workflow's routing pass so that the change takes effect at once.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from engine.api import errors
from engine.api.deps import Ctx, CurrentOperator, IdPath
from engine.models import ContactPublic, Conversation, State
from engine.service import admin, conversations, workflow
from engine.validation import CleanInput

router = APIRouter(prefix="/api/operator", tags=["operator"], responses=errors.responses(401, 404, 409, 422))

Name = Annotated[str, Field(max_length=64, pattern=r"^[\w .&/-]*$")]


class RoutingRequest(CleanInput):
    """Each field given replaces that input; an empty string or list clears it."""

    model_config = ConfigDict(extra="forbid")
    language: str | None = Field(default=None, pattern=r"^([a-zA-Z]{2}(-[a-zA-Z]{2})?)?$",
                                 description="ISO 639-1 code such as de or pt-BR; empty clears it")
    topics: list[Name] | None = Field(default=None, max_length=20)
    region: Name | None = None


class RoutingInputs(BaseModel):
    conversation_id: int
    state: State
    skills: list[str]
    assignee_id: int | None


@router.post("/conversations/{conversation_id}/routing")
async def set_routing(ctx: Ctx, operator: CurrentOperator, conversation_id: IdPath,
                      body: RoutingRequest) -> RoutingInputs:
    """What routing matches on for this conversation; a queued one is routed again at once."""
    conversation = await conversations.set_routing(ctx, conversation_id, operator.id, language=body.language,
                                                   topics=body.topics, region=body.region)
    if conversation.state == State.queued:
        await workflow.route(ctx)
        conversation = await ctx.read(lambda session: session.get(Conversation, conversation_id))
    return RoutingInputs(conversation_id=conversation.id, state=conversation.state,
                         skills=conversation.skills, assignee_id=conversation.assignee_id)


class ContactRoutingRequest(CleanInput):
    """A field left out is kept; ``null`` clears it. The service checks the values."""

    model_config = ConfigDict(extra="forbid")
    region: str | None = Field(default=None, max_length=200,
                               description="a short code such as eu or us-west; operators need region:<code>")
    value: float | None = Field(default=None, description="customer value (e.g. lifetime spend), >= 0")


@router.patch("/contacts/{contact_id}")
async def set_contact_routing(ctx: Ctx, operator: CurrentOperator, contact_id: IdPath,
                              body: ContactRoutingRequest) -> ContactPublic:
    """A contact's region and customer value; their queued conversations are routed again at once."""
    changes = body.model_dump(exclude_unset=True)
    contact = await admin.set_contact_routing(ctx, operator.id, contact_id, changes)
    await workflow.route(ctx)
    return ContactPublic.model_validate(contact, from_attributes=True)
