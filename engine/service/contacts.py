"""Contacts and their channel identities: who wrote, and which of their conversations continues.

One contact may have several identities (a phone, an email address, a Messenger id). A message from
an identity seen before reaches that contact; that is the only automatic link, and it is safe
because of what an identity is: an address the channel's provider reported (the number a text came
from, the mailbox a mail came from, a page-scoped id) or one the visitor proved they own
(``verified_at``: the code mailed or texted to a web visitor's address, ``engine.service.confirmation``).
Phone numbers are compared in their E.164 form (``phonenumbers``), so one number written two ways is
one identity. What a visitor typed (``Contact.email``/``phone`` of a web contact) links nothing: an
inbound mail from that address starts a contact of its own, and joining the two is an operator's
merge (``engine.service.merges``), since the typist may not own the address and would otherwise read
its owner's mail in their widget. Channel adapters call these through ``ctx.act`` / ``ctx.read``.

One thread per customer: a message continues the contact's latest conversation whatever its
channel when that conversation was active within the reopen window (an email answering a chat
reply, an SMS after the web chat), so the operator and the state machine see one thread.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, col, select

from engine.models import (
    Channel,
    ChannelDelivery,
    Contact,
    ContactIdentity,
    Conversation,
    Message,
    State,
    utcnow,
)
from engine.service.channel_rules import phone_key
from engine.service.deliveries import provider_key
from engine.service.runtime import Outbox


def identity_key(channel: str, external_id: str) -> str:
    """How an identity is stored and looked up: phones in E.164, email addresses in lower case."""
    if channel == Channel.sms:
        return phone_key(external_id) or external_id.strip()
    if channel == Channel.email:
        return external_id.strip().lower()
    return external_id


def find_identity(session: Session, channel: str, external_id: str) -> ContactIdentity | None:
    key = identity_key(channel, external_id)
    return session.exec(select(ContactIdentity).where(
        ContactIdentity.channel == channel, col(ContactIdentity.external_id).in_({key, external_id}))
        .order_by(col(ContactIdentity.id))).first()


def ensure_contact(session: Session, _outbox: Outbox, channel: str, external_id: str, *,
                   name: str | None = None, email: str | None = None, phone: str | None = None) -> int:
    """The contact this channel identity names, or a new contact with it. Fills in a name, email or
    phone the contact lacked (these come from the provider). Never links to a contact by the email
    or phone it merely carries (see the module's docstring)."""
    identity = find_identity(session, channel, external_id)
    contact = session.get(Contact, identity.contact_id) if identity else None
    if contact is None:
        contact = Contact()
    contact.name = contact.name or name
    contact.email = contact.email or (email.lower() if email else None)
    contact.phone = contact.phone or ((phone_key(phone) or phone) if phone else None)
    session.add(contact)
    session.flush()
    if identity is None:
        session.add(ContactIdentity(contact_id=contact.id, channel=channel,
                                    external_id=identity_key(channel, external_id)))
    return contact.id


def conversation_to_continue(session: Session, contact_id: int, channel: str, thread: tuple[str, ...],
                             window: timedelta) -> int | None:
    """The conversation a new message from this contact on ``channel`` belongs to: the thread an
    email answers (``thread``: the provider ids it refers to, which may be a reply we sent by mail
    from a web chat), else the contact's conversation with the latest message, on any channel, when
    that message is younger than ``window``, else the contact's latest conversation on this channel.
    None when there is none or it was resolved longer than ``window`` ago."""
    candidate = None
    now = utcnow()
    if thread:
        keys = [provider_key(ref) for ref in thread]
        candidate = session.exec(select(Conversation).join(
            ChannelDelivery, col(ChannelDelivery.conversation_id) == Conversation.id).where(
            ChannelDelivery.channel == channel, col(ChannelDelivery.provider_id).in_(keys),
            Conversation.contact_id == contact_id).order_by(col(ChannelDelivery.id).desc())).first()
    if candidate is None:
        latest = session.exec(select(Conversation, Message.created_at).join(
            Message, col(Message.conversation_id) == Conversation.id).where(
            Conversation.contact_id == contact_id).order_by(col(Message.id).desc()).limit(1)).first()
        if latest is not None and latest[1] >= now - window:
            candidate = latest[0]
    if candidate is None:
        candidate = session.exec(select(Conversation).where(
            Conversation.contact_id == contact_id, Conversation.channel == channel)
            .order_by(col(Conversation.id).desc())).first()
    if candidate is None:
        return None
    if candidate.state == State.resolved and candidate.resolved_at is not None \
            and candidate.resolved_at < now - window:
        return None
    return candidate.id
