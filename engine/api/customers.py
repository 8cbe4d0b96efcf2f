"""One thread per customer: the timeline of a contact across channels, merging and unmerging
contacts, and where a reply in a conversation leaves (docs/channels.md). Routes parse, check the
operator and call the service (``engine.service.timeline``, ``merges``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import ConfigDict, Field

from engine.api import errors
from engine.api.deps import Ctx, CurrentOperator, IdPath
from engine.models import ContactMergePublic
from engine.service import merges, timeline
from engine.validation import CleanInput, Id, Text

router = APIRouter(prefix="/api/operator", tags=["customers"],
                   responses=errors.responses(400, 401, 404, 409, 413, 429))


class _Body(CleanInput):
    model_config = ConfigDict(extra="forbid")


class MergeRequest(_Body):
    source_id: Id = Field(description="the contact merged into this one (its conversations and identities)")
    reason: str = Field(default="", max_length=2000)


class UnmergeRequest(_Body):
    reason: str = Field(default="", max_length=2000)


@router.get("/contacts")
async def search_contacts(ctx: Ctx, _operator: CurrentOperator,
                          q: Annotated[Text, Query(max_length=200)] = "") -> list[timeline.ContactCard]:
    """Contacts by id, or a part of their name, email, phone or a channel identity: the merge picker."""
    return await ctx.read(timeline.search, q)


@router.get("/contacts/{contact_id}/timeline")
async def contact_timeline(ctx: Ctx, _operator: CurrentOperator, contact_id: IdPath) -> timeline.Timeline:
    """Every message of the contact's conversations on every channel, oldest first (the latest 500),
    with the channel each came or left on; identities, merge history and merge suggestions."""
    return await ctx.read(timeline.timeline, contact_id)


@router.post("/contacts/{contact_id}/merge")
async def merge_contacts(ctx: Ctx, operator: CurrentOperator, contact_id: IdPath,
                         body: MergeRequest) -> ContactMergePublic:
    """Join ``source_id`` into this contact: one customer, one timeline. Audited; undone by unmerge.
    409 when either contact was merged away already."""
    return await merges.merge(ctx, contact_id, body.source_id, operator.id, body.reason)


@router.post("/merges/{merge_id}/unmerge")
async def unmerge_contacts(ctx: Ctx, operator: CurrentOperator, merge_id: IdPath,
                           body: UnmergeRequest) -> ContactMergePublic:
    """Split a merge: both contacts get back exactly their conversations and identities. 409 when it
    was undone already, or a later merge moved them on."""
    return await merges.unmerge(ctx, merge_id, operator.id, body.reason)


@router.get("/conversations/{conversation_id}/route")
async def reply_route(ctx: Ctx, _operator: CurrentOperator, conversation_id: IdPath) -> timeline.RouteOptions:
    """The channel a reply leaves on by default (the one the customer last used; by email or SMS to
    a web visitor who left the chat) and the channels the operator may choose instead."""
    return await ctx.read(timeline.route_options, conversation_id, ctx.settings.presence_grace_seconds)
