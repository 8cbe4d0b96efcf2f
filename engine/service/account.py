"""The customer's account beside a conversation: what to look up, the lookup through the
integration, the actions the conversation calls for, and the order facts drafts quote.

Read-only here (the integration caches lookups briefly). Nothing in the bot's turn calls it: the
console asks when an operator opens a conversation, and drafts ask in their background task, so a
slow or absent shop system never delays a visitor's answer.
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel
from sqlmodel import Session, col, select

from engine.integrations import Account, IntegrationError, LookupQuery, Order
from engine.models import Contact, Conversation, HandoffEvent
from engine.service import action_rules as rules
from engine.service.canned import order_numbers, recent_words
from engine.service.errors import NotFound
from engine.service.runtime import ServiceContext

log = logging.getLogger(__name__)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?[\d ().-]{7,}$")


@dataclass(frozen=True)
class LookupInput:
    """What the conversation says about who the visitor is, read in one session."""

    query: LookupQuery
    mentioned_orders: list[str]  # order numbers in the visitor's words, in the order given
    visitor_texts: list[str]


class SuggestionPublic(BaseModel):
    kind: str
    label: str
    order_number: str
    amount: Decimal
    unit: str
    reason: str
    evidence: list[str]


class AccountView(BaseModel):
    """``found``; ``not_found`` (the shop knows nobody by these details); ``unavailable`` (down, slow
    or failing: ``detail`` says which, the operator carries on); ``unconfigured`` (no integration)."""

    status: Literal["found", "not_found", "unavailable", "unconfigured"]
    detail: str = ""
    searched: dict[str, str] = {}
    account: Account | None = None
    cached_seconds: float | None = None  # the lookup's age when it came from the cache
    suggestions: list[SuggestionPublic] = []


def parse_search(text: str) -> LookupQuery:
    """What an operator typed in the account search: an email, a phone number or an order number."""
    text = text.strip()
    if EMAIL.match(text):
        return LookupQuery(email=text)
    if PHONE.match(text) and sum(c.isdigit() for c in text) >= 7:
        return LookupQuery(phone=text)
    return LookupQuery(order=text.upper())


def lookup_input(session: Session, conversation_id: int) -> LookupInput:
    """The contact's email and phone, and the latest order number (else email, phone) the visitor
    gave in the conversation's recent turns (``canned.recent_words``) or that the handoff packet
    found."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    contact = session.get(Contact, conversation.contact_id)
    texts = recent_words(session, conversation_id)
    packet = (
        session.exec(
            select(HandoffEvent.packet)
            .where(HandoffEvent.conversation_id == conversation_id, col(HandoffEvent.packet).is_not(None))
            .order_by(col(HandoffEvent.id).desc())
        ).first()
        or {}
    )
    entities = packet.get("entities") or {}
    orders = list(dict.fromkeys([*entities.get("order_numbers", []), *order_numbers(texts)]))
    emails = [contact.email] if contact and contact.email else list(entities.get("emails", []))
    phones = [contact.phone] if contact and contact.phone else list(entities.get("phones", []))
    query = LookupQuery(
        order=orders[-1].upper() if orders else None,
        email=emails[0] if emails else None,
        phone=phones[0] if phones else None,
    )
    return LookupInput(query=query, mentioned_orders=orders, visitor_texts=texts)


async def account_view(ctx: ServiceContext, conversation_id: int, search: str | None = None) -> AccountView:
    """The account the conversation points at (or the one ``search`` names), with suggestions."""
    data = await ctx.read(lookup_input, conversation_id)
    query = parse_search(search) if search else data.query
    if ctx.integration is None:
        return AccountView(
            status="unconfigured",
            detail="no account integration is configured (BATON_INTEGRATION_URL; docs/integrations.md)",
        )
    if not query.params():
        return AccountView(
            status="not_found",
            detail="the visitor has given no email, phone or order number yet: search by hand or ask them",
        )
    try:
        account, age = await ctx.integration.lookup(query)
    except IntegrationError as exc:
        return AccountView(status="unavailable", detail=exc.message, searched=query.params())
    if account is None:
        return AccountView(
            status="not_found", detail="the shop knows no customer by these details", searched=query.params()
        )
    mentioned = [*data.mentioned_orders, *([query.order] if query.order else [])]
    found = rules.suggest(ctx.settings.actions, data.visitor_texts, account, mentioned)
    currency = ctx.settings.integration_currency
    suggestions = [
        SuggestionPublic(
            **asdict(s), unit=rules.unit_of(rules.spec_for(ctx.settings.actions, s.kind), currency)
        )
        for s in found
    ]
    return AccountView(
        status="found", searched=query.params(), account=account, cached_seconds=age, suggestions=suggestions
    )


# --- what drafts quote ---------------------------------------------------------------------------


def _day(value: object) -> str:
    return f"{value:%A %-d %B}"  # "Monday 30 November"


def order_status(order: Order) -> str:
    """The order's real status and dates, in a sentence a reply can carry."""
    items = ", ".join(i.name for i in order.items[:3]) or "your items"
    said = f"Your order {order.number} ({items})"
    status = order.status.lower()
    if order.refunded > 0:
        said += (
            f" has been refunded {rules.describe(order.refunded, order.currency)} of "
            f"{rules.describe(order.total, order.currency)}"
        )
        if order.delivered_at:
            said += f"; it was delivered on {_day(order.delivered_at)}"
    elif status == "delivered" and order.delivered_at:
        said += f" was delivered on {_day(order.delivered_at)}"
    elif status == "dispatched" and order.dispatched_at:
        said += f" was dispatched on {_day(order.dispatched_at)}"
        if order.carrier:
            said += f" with {order.carrier}" + (f" (tracking {order.tracking})" if order.tracking else "")
        if order.estimated_delivery:
            said += f" and should arrive by {_day(order.estimated_delivery)}"
    elif status == "placed":
        said += f" was placed on {_day(order.placed_at)} and has not been dispatched yet"
        if order.estimated_delivery:
            said += f"; it should arrive by {_day(order.estimated_delivery)}"
    else:
        said += f" is {status} (placed on {_day(order.placed_at)})"
    said += "."
    if order.return_deadline and order.delivered_at:
        said += f" You can return it until {_day(order.return_deadline)}."
    return said


async def draft_text(ctx: ServiceContext, conversation_id: int) -> str | None:
    """The order-status reply drafts offer: the order the visitor named (else their newest) as the
    shop has it now; None when there is no integration, no order, or the shop does not answer."""
    if ctx.integration is None:
        return None
    data = await ctx.read(lookup_input, conversation_id)
    if not data.query.params():
        return None
    try:
        account, _age = await ctx.integration.lookup(data.query)
    except IntegrationError as exc:
        log.info("no order draft for conversation %s: %s", conversation_id, exc.message)
        return None
    if account is None or not account.orders:
        return None
    by_number = {o.number.upper(): o for o in account.orders}
    order = next(
        (by_number[n.upper()] for n in reversed(data.mentioned_orders) if n.upper() in by_number),
        account.orders[0],
    )
    return f"I've checked our system. {order_status(order)}"
