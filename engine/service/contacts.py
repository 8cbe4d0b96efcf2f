"""Contacts and their channel identities: who wrote, and which of their conversations continues.

One contact may have several identities (a phone, an email address, a Messenger id); a message from
an identity seen before reaches that contact, and one from the email address or phone number a
contact already gave is linked to them (these come from the channel's provider, not from what a
visitor typed into the widget). Channel adapters call these through ``ctx.act`` / ``ctx.read``.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from engine.models import ChannelDelivery, Contact, ContactIdentity, Conversation, State, utcnow
from engine.service.deliveries import provider_key
from engine.service.runtime import Outbox


def ensure_contact(session: Session, _outbox: Outbox, channel: str, external_id: str, *,
                   name: str | None = None, email: str | None = None, phone: str | None = None) -> int:
    """The contact this channel identity names, linking it to a contact with the same email address
    or phone number, or a new contact. Fills in a name, email or phone the contact lacked."""
    identity = session.exec(select(ContactIdentity).where(
        ContactIdentity.channel == channel, ContactIdentity.external_id == external_id)).first()
    contact = session.get(Contact, identity.contact_id) if identity else None
    if contact is None and email:
        contact = session.exec(select(Contact).where(func.lower(Contact.email) == email.lower())
                               .order_by(col(Contact.id))).first()
    if contact is None and phone:
        contact = session.exec(select(Contact).where(Contact.phone == phone)
                               .order_by(col(Contact.id))).first()
    if contact is None:
        contact = Contact()
    contact.name = contact.name or name
    contact.email = contact.email or (email.lower() if email else None)
    contact.phone = contact.phone or phone
    session.add(contact)
    session.flush()
    if identity is None:
        session.add(ContactIdentity(contact_id=contact.id, channel=channel, external_id=external_id))
    return contact.id


def conversation_to_continue(session: Session, contact_id: int, channel: str, thread: tuple[str, ...],
                             window: timedelta) -> int | None:
    """The thread an email answers (``thread``: the provider ids it refers to), else the contact's
    latest conversation on this channel; None when there is none or it was resolved longer than
    ``window`` ago."""
    candidate = None
    if thread:
        keys = [provider_key(ref) for ref in thread]
        candidate = session.exec(select(Conversation).join(
            ChannelDelivery, col(ChannelDelivery.conversation_id) == Conversation.id).where(
            ChannelDelivery.channel == channel, col(ChannelDelivery.provider_id).in_(keys),
            Conversation.contact_id == contact_id).order_by(col(ChannelDelivery.id).desc())).first()
    if candidate is None:
        candidate = session.exec(select(Conversation).where(
            Conversation.contact_id == contact_id, Conversation.channel == channel)
            .order_by(col(Conversation.id).desc())).first()
    if candidate is None:
        return None
    if candidate.state == State.resolved and candidate.resolved_at is not None \
            and candidate.resolved_at < utcnow() - window:
        return None
    return candidate.id
