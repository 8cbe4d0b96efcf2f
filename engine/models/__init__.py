"""The engine's tables and their API shapes, split by concept. Importing this package registers
every table on ``SQLModel.metadata`` (the migrations compare against it)."""

from engine.models.action import AccountAction, AccountActionPublic, ActionStatus
from engine.models.attachment import Attachment, AttachmentPublic
from engine.models.audit import AuditEntry, AuditEntryPublic
from engine.models.base import utcnow
from engine.models.confirmation import Confirmation
from engine.models.contact import Channel, Contact, ContactIdentity, ContactPublic
from engine.models.conversation import (
    Conversation,
    ConversationPublic,
    HandoffEvent,
    Message,
    MessagePublic,
    Role,
    State,
    Transition,
    TransitionPublic,
    Visibility,
)
from engine.models.delivery import ChannelDelivery, DeliveryStatus, Direction
from engine.models.draft import Draft, DraftKind, DraftPublic
from engine.models.merge import ContactMerge, ContactMergePublic, VisitorPresence
from engine.models.operator import (
    CannedResponse,
    CannedResponseCreate,
    CannedResponsePublic,
    Operator,
    OperatorCreate,
    OperatorPublic,
    Status,
    Team,
    TeamCreate,
    TeamHours,
    TeamPublic,
)
from engine.models.operator import Role as OperatorRole

__all__ = [
    "AccountAction", "AccountActionPublic", "ActionStatus", "Attachment", "AttachmentPublic", "AuditEntry",
    "AuditEntryPublic",
    "CannedResponse", "CannedResponseCreate", "CannedResponsePublic", "Channel", "ChannelDelivery", "Contact",
    "ContactIdentity", "ContactMerge", "ContactMergePublic", "ContactPublic", "Conversation",
    "ConversationPublic", "DeliveryStatus", "Direction",
    "Confirmation", "Draft", "DraftKind", "DraftPublic",
    "HandoffEvent", "Message", "MessagePublic",
    "Operator", "OperatorCreate", "OperatorPublic", "OperatorRole", "Role", "State", "Status", "Team",
    "TeamCreate", "TeamHours", "TeamPublic", "Transition", "TransitionPublic", "Visibility", "utcnow",
    "VisitorPresence",
]
