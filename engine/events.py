"""Every event the engine publishes, as a typed model with a literal ``type``.

Conversation events carry ``seq``: the conversation's ``last_seq`` when the event happened.
Messages take a new seq each; a state change carries the seq of the latest message, so a client
that resumes from its last seq gets the missed messages and then the current state.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from engine.models import AccountActionPublic, MessagePublic


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QueueInfo(_Event):
    """Where a queued conversation stands: 1-based position and an estimated wait (None if unknown).
    ``opens_at``: queued after hours, it waits for its team to open then (no wait is estimated)."""

    position: int
    wait_seconds: float | None = None
    opens_at: datetime | None = None


class MessageCreated(_Event):
    type: Literal["message.created"] = "message.created"
    conversation_id: int
    seq: int
    message: MessagePublic


class ConversationChanged(_Event):
    """A state change or an update of the conversation's routing fields (tags, team, owner)."""

    type: Literal["conversation.queued", "conversation.assigned", "conversation.resolved",
                  "conversation.updated"]
    conversation_id: int
    seq: int
    state: str
    from_state: str
    assignee_id: int | None = None
    team_id: int | None = None
    tags: list[str] = []
    actor: str
    reason: str = ""
    queue: QueueInfo | None = None


class Typing(_Event):
    type: Literal["typing"] = "typing"
    conversation_id: int
    role: Literal["visitor", "operator"]
    on: bool
    operator_id: int | None = None


class Viewing(_Event):
    """An operator has a conversation open in their console (``on``) or left it. Consoles show who else
    is looking (and typing), so two people do not answer at once. Ephemeral, like typing: a console
    says it again while it stays open, and forgets a colleague it has not heard from in a while."""

    type: Literal["viewing"] = "viewing"
    conversation_id: int
    operator_id: int
    on: bool


class Read(_Event):
    """``role`` read every message of the other side up to ``seq``."""

    type: Literal["read"] = "read"
    conversation_id: int
    role: Literal["visitor", "operator"]
    seq: int


class MessageDelivered(_Event):
    """An outside channel's provider (SMS, email, Messenger) took the message: ``delivered_at`` is set."""

    type: Literal["message.delivered"] = "message.delivered"
    conversation_id: int
    seq: int  # the delivered message's seq
    message_id: int
    channel: str
    delivered_at: datetime


class DraftCreated(_Event):
    type: Literal["draft.created"] = "draft.created"
    conversation_id: int
    draft_id: int
    text: str
    meta: dict[str, Any] = {}


class QueueUpdated(_Event):
    type: Literal["queue.updated"] = "queue.updated"
    queued: int
    positions: dict[int, QueueInfo] = {}


class PresenceUpdated(_Event):
    type: Literal["presence.updated"] = "presence.updated"
    operator_id: int
    status: Literal["online", "away", "offline"]
    reason: str = ""  # why: chosen by the operator, or their connection was lost


class ActionUpdated(_Event):
    """An account action was asked for, approved, rejected, performed or failed (engine.service.actions).
    Goes to every operator: an approver learns of a request in a conversation they do not have open."""

    type: Literal["action.updated"] = "action.updated"
    conversation_id: int
    action: AccountActionPublic


class RosterUpdated(_Event):
    """An admin or a supervisor changed an operator, a team or a canned reply (engine.service.admin);
    goes to every operator, so open supervisor and admin pages redraw."""

    type: Literal["roster.updated"] = "roster.updated"
    entity: Literal["operator", "team", "canned", "contact", "handoff"]
    target_id: int  # not ``id``: a frame's ``id`` is its event id on the stream (frames.Stamp)
    actor_id: int
    fields: list[str] = []


class HandoffChanged(_Event):
    """An admin changed the handoff settings on one worker (engine.service.admin); goes to every
    worker (``WORKERS``), each applying them to its running detector, so no worker keeps the old ones."""

    type: Literal["handoff.changed"] = "handoff.changed"
    settings: dict[str, Any]  # admin.HandoffSettings without saved_to and reason


class ContactMerged(_Event):
    """An operator (``actor_id``) or the engine (``None``: a verified identity) joined contact
    ``source_id`` into ``target_id``, or an unmerge split them again (engine.service.merges); goes to
    every operator, so consoles showing either contact redraw its timeline."""

    type: Literal["contact.merged", "contact.unmerged"]
    merge_id: int
    target_id: int
    source_id: int
    actor_id: int | None = None
    conversations: list[int] = []


class DeliveryQueued(_Event):
    """A reply was routed to an outside channel in a conversation no dispatcher follows (a web chat
    whose visitor left, a reply sent by email on the operator's choice: engine.service.reply_routes);
    goes to every worker (``WORKERS``), whose dispatcher claims and sends it at once."""

    type: Literal["delivery.queued"] = "delivery.queued"
    conversation_id: int
    message_id: int
    channel: str


Event = Annotated[
    MessageCreated | ConversationChanged | Typing | Viewing | Read | DraftCreated | QueueUpdated
    | PresenceUpdated | ActionUpdated | MessageDelivered | RosterUpdated | HandoffChanged
    | ContactMerged | DeliveryQueued,
    Field(discriminator="type"),
]
EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def parse_event(data: str | bytes | dict[str, Any]) -> Event:
    """An event back from its JSON form (what a bus between workers carries)."""
    if isinstance(data, dict):
        return EVENT_ADAPTER.validate_python(data)
    return EVENT_ADAPTER.validate_json(data)
