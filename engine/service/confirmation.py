"""Confirming an address a web visitor typed: one code sent to it, then a verified identity. One
mechanism for both kinds: an email address (the code by mail) and a phone number (the code by SMS).

A visitor's typed address is only a contact detail: nothing is sent to it but the one code per
request (the rate limits on requests are the API's, ``limit_email_codes``, counted per channel), and
a person's reply reaches a visitor who left the widget only at a confirmed address. The code is six
digits, kept as an HMAC under the server's ``secret_key`` (a copy of the database reveals no code),
usable for ``email_code_minutes`` and for ``email_code_attempts`` wrong tries, whichever the channel.
A contact has at most one pending code per channel: asking again replaces it, and an email code and
an SMS code may wait side by side (a leave-a-message with both). The right code records the address
as the contact's ``email`` or ``sms`` identity with ``verified_at``, which automatic linking and the
reply channel rely on: a later mail or text from that address reaches this contact, a contact that
already writes from it is merged with this one (``engine.service.merges``), and a person's reply to
the visitor who left the page leaves by mail, else by SMS, at that address (``channel_rules``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlmodel import Session, select

from engine.models import Channel, Confirmation, Contact, ContactIdentity, Conversation, utcnow
from engine.service import contacts, merges
from engine.service.errors import Invalid, NotFound, ServiceError
from engine.service.runtime import Outbox, ServiceContext

KINDS = (Channel.email, Channel.sms)  # the channels an address can be confirmed on
SUBJECT = "Your confirmation code"
REQUEST_PATH = {Channel.email: "/api/visitor/email", Channel.sms: "/api/visitor/phone"}


class Undeliverable(ServiceError):
    """The mail server or the SMS provider did not take the code (which is then withdrawn)."""

    status_code = 503


class Sender(Protocol):
    """Sends one message of ours (``subject`` is a mail's; SMS has none); raises
    :class:`Undeliverable` when the server or provider does not take it. The API passes the
    channel transport's ``send_notice`` (``engine.channels.email``, ``engine.channels.sms``): the
    service imports no channel."""

    async def __call__(self, to: str, subject: str, text: str) -> str: ...


@dataclass(frozen=True)
class Pending:
    """What the visitor is told after a code was sent (never the code)."""

    channel: str
    address: str
    expires_at: datetime


@dataclass(frozen=True)
class Verified:
    channel: str
    address: str
    verified_at: datetime


def code_hash(secret_key: str, code: str) -> str:
    return hmac.new(secret_key.encode(), code.encode(), hashlib.sha256).hexdigest()


def code_text(channel: str, code: str, minutes: float) -> str:
    """The message that carries the code: a mail's body, or one SMS (short, under 160 characters)."""
    if channel == Channel.sms:
        return (f"Your confirmation code is {code}. Type it into the chat window; it works for {minutes:g} "
                "minutes. Did not ask? Ignore this: nothing more will be sent.")
    return (f"Your confirmation code is {code}\n\n"
            f"Type it into the chat window to confirm this address. It works for {minutes:g} minutes.\n"
            "If you did not ask for it, ignore this message: nothing more will be sent to you.\n")


def _store_pending(session: Session, _outbox: Outbox, conversation_id: int, channel: str, address: str,
                   digest: str, expires_at: datetime) -> int:
    """Put ``address`` on the conversation's contact (its ``email`` or ``phone``), unverified, with
    this code as the channel's only pending one (an earlier code stops working). Returns the row's
    id. The contact's row is locked first, so two requests at once replace the code in turn rather
    than both inserting."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    contact = session.exec(select(Contact).where(Contact.id == conversation.contact_id)
                           .with_for_update()).one()
    if channel == Channel.email:
        contact.email = address
    else:
        contact.phone = address
    session.add(contact)
    row = session.exec(select(Confirmation).where(
        Confirmation.contact_id == contact.id, Confirmation.channel == channel)).first() \
        or Confirmation(contact_id=contact.id, channel=channel)
    row.conversation_id, row.address, row.code_hash = conversation_id, address, digest
    row.attempts, row.expires_at, row.created_at = 0, expires_at, utcnow()
    session.add(row)
    session.flush()
    return row.id


def _withdraw(session: Session, _outbox: Outbox, row_id: int, digest: str) -> None:
    """Drop the pending code that did not go out (unless a newer request replaced it)."""
    row = session.get(Confirmation, row_id)
    if row is not None and row.code_hash == digest:
        session.delete(row)


async def request(ctx: ServiceContext, conversation_id: int, channel: str, address: str,
                  send: Sender) -> Pending:
    """Store ``address`` as the visitor's unverified email or phone and ``send`` it one code. The
    caller has already counted the request against the rate limits and validated the address (an
    email address in lower case, a phone number in E.164)."""
    if channel not in KINDS:
        raise Invalid(f"only an email address or a phone number is confirmed, not a {channel} address")
    settings = ctx.settings
    code = f"{secrets.randbelow(10**6):06d}"
    digest = code_hash(settings.secret_key, code)
    expires_at = utcnow() + timedelta(minutes=settings.email_code_minutes)
    row_id = await ctx.act(_store_pending, conversation_id, channel, address, digest, expires_at)
    try:
        await send(address, SUBJECT, code_text(channel, code, settings.email_code_minutes))
    except Undeliverable:
        await ctx.act(_withdraw, row_id, digest)
        raise
    return Pending(channel=channel, address=address, expires_at=expires_at)


def _confirm(session: Session, outbox: Outbox, conversation_id: int, channel: str, digest: str,
             max_attempts: int, now: datetime) -> Verified | str:
    """The verified identity, or why the code was refused (a string, so that a wrong try's count
    is committed rather than rolled back with an exception). The row is locked, so wrong codes
    tried at once are each counted. The contact's row is locked first, as a request locks it, so a
    request and a confirmation at once (or the merge a confirmation may make) wait in turn."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is not None:
        session.exec(select(Contact.id).where(Contact.id == conversation.contact_id).with_for_update()).one()
    row = session.exec(select(Confirmation).where(
        Confirmation.contact_id == conversation.contact_id, Confirmation.channel == channel)
        .with_for_update()).first() if conversation else None
    if row is None:
        return f"no confirmation code is pending: ask for one with POST {REQUEST_PATH[channel]}"
    if row.expires_at <= now:
        session.delete(row)
        return "the confirmation code has expired: ask for a new one"
    if row.attempts >= max_attempts:
        return f"{max_attempts} wrong codes were tried: ask for a new one"
    if not hmac.compare_digest(row.code_hash, digest):
        row.attempts += 1
        session.add(row)
        left = max_attempts - row.attempts
        return f"the confirmation code is wrong ({left} tries left)" if left else \
            f"the confirmation code is wrong and {max_attempts} wrong codes were tried: ask for a new one"
    identity = contacts.find_identity(session, channel, row.address)
    if identity is None:
        identity = ContactIdentity(contact_id=row.contact_id, channel=channel, external_id=row.address)
    address, contact_id = row.address, row.contact_id
    session.delete(row)
    session.flush()
    if identity.contact_id != contact_id:
        # another contact already has this address (mail or texts came from it): the visitor just
        # proved they own it, so both are one customer, merged automatically (undone like any merge)
        merges.merge_in_session(session, outbox, identity.contact_id, contact_id, None,
                                f"the web visitor confirmed {address}, which contact "
                                f"{identity.contact_id} writes from")
    identity.verified_at = identity.verified_at or now
    session.add(identity)
    return Verified(channel=channel, address=address, verified_at=now)


async def confirm(ctx: ServiceContext, conversation_id: int, channel: str, code: str) -> Verified:
    """Check ``code`` against the conversation's contact's pending code on ``channel``; Invalid
    (422) saying why when it is refused. A wrong code counts against ``email_code_attempts``."""
    settings = ctx.settings
    outcome = await ctx.act(_confirm, conversation_id, channel, code_hash(settings.secret_key, code),
                            settings.email_code_attempts, utcnow())
    if isinstance(outcome, str):
        raise Invalid(outcome)
    return outcome
