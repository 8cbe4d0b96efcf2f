"""Confirming the email address a web visitor typed: one code sent to it, then a verified identity.

A visitor's typed address is only a contact detail: nothing is sent to it but the one confirmation
mail per request (the rate limits on requests are the API's, ``limit_email_codes``), and replies to
a web conversation never go by email. The code is six digits, kept as an HMAC under the server's
``secret_key`` (a copy of the database reveals no code), usable for ``email_code_minutes`` and for
``email_code_attempts`` wrong tries. A contact has at most one pending code: asking again replaces
it. The right code records the address as the contact's ``email`` identity with ``verified_at``,
which automatic linking relies on: a later mail from that address reaches this contact, and a
contact that already writes from it is merged with this one (``engine.service.merges``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlmodel import Session, select

from engine.models import Channel, Contact, ContactIdentity, Conversation, EmailConfirmation, utcnow
from engine.service import merges
from engine.service.errors import Invalid, NotFound, ServiceError
from engine.service.runtime import Outbox, ServiceContext

SUBJECT = "Your confirmation code"


class Undeliverable(ServiceError):
    """The mail server did not take a mail (a confirmation code's is then withdrawn)."""

    status_code = 503


class Mailer(Protocol):
    """Sends one mail of ours; raises :class:`Undeliverable` when the server does not take it. The
    API passes the SMTP transport's (``engine.channels.email``): the service imports no channel."""

    async def __call__(self, to: str, subject: str, text: str) -> str: ...


@dataclass(frozen=True)
class Pending:
    """What the visitor is told after a code was sent (never the code)."""

    address: str
    expires_at: datetime


@dataclass(frozen=True)
class Verified:
    address: str
    verified_at: datetime


def code_hash(secret_key: str, code: str) -> str:
    return hmac.new(secret_key.encode(), code.encode(), hashlib.sha256).hexdigest()


def _store_pending(session: Session, _outbox: Outbox, conversation_id: int, address: str, digest: str,
                   expires_at: datetime) -> int:
    """Put ``address`` on the conversation's contact, unverified, with this code as its only
    pending one (an earlier code stops working). Returns the row's id. The contact's row is
    locked first, so two requests at once replace the code in turn rather than both inserting."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    contact = session.exec(select(Contact).where(Contact.id == conversation.contact_id)
                           .with_for_update()).one()
    contact.email = address
    session.add(contact)
    row = session.exec(select(EmailConfirmation).where(
        EmailConfirmation.contact_id == contact.id)).first() or EmailConfirmation(contact_id=contact.id)
    row.conversation_id, row.address, row.code_hash = conversation_id, address, digest
    row.attempts, row.expires_at, row.created_at = 0, expires_at, utcnow()
    session.add(row)
    session.flush()
    return row.id


def _withdraw(session: Session, _outbox: Outbox, row_id: int, digest: str) -> None:
    """Drop the pending code whose mail did not go out (unless a newer request replaced it)."""
    row = session.get(EmailConfirmation, row_id)
    if row is not None and row.code_hash == digest:
        session.delete(row)


async def request(ctx: ServiceContext, conversation_id: int, address: str, send: Mailer) -> Pending:
    """Store ``address`` as the visitor's unverified email and ``send`` it one code. The caller
    has already counted the request against the rate limits and validated the address."""
    settings = ctx.settings
    code = f"{secrets.randbelow(10**6):06d}"
    digest = code_hash(settings.secret_key, code)
    expires_at = utcnow() + timedelta(minutes=settings.email_code_minutes)
    row_id = await ctx.act(_store_pending, conversation_id, address, digest, expires_at)
    minutes = f"{settings.email_code_minutes:g}"
    text = (f"Your confirmation code is {code}\n\n"
            f"Type it into the chat window to confirm this address. It works for {minutes} minutes.\n"
            "If you did not ask for it, ignore this message: nothing more will be sent to you.\n")
    try:
        await send(address, SUBJECT, text)
    except Undeliverable:
        await ctx.act(_withdraw, row_id, digest)
        raise
    return Pending(address=address, expires_at=expires_at)


def _confirm(session: Session, outbox: Outbox, conversation_id: int, digest: str, max_attempts: int,
             now: datetime) -> Verified | str:
    """The verified identity, or why the code was refused (a string, so that a wrong try's count
    is committed rather than rolled back with an exception). The row is locked, so wrong codes
    tried at once are each counted. The contact's row is locked first, as a request locks it, so a
    request and a confirmation at once (or the merge a confirmation may make) wait in turn."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is not None:
        session.exec(select(Contact.id).where(Contact.id == conversation.contact_id).with_for_update()).one()
    row = session.exec(select(EmailConfirmation).where(
        EmailConfirmation.contact_id == conversation.contact_id).with_for_update()).first() \
        if conversation else None
    if row is None:
        return "no confirmation code is pending: ask for one with POST /api/visitor/email"
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
    identity = session.exec(select(ContactIdentity).where(
        ContactIdentity.channel == Channel.email, ContactIdentity.external_id == row.address)).first()
    if identity is None:
        identity = ContactIdentity(contact_id=row.contact_id, channel=Channel.email, external_id=row.address)
    address, contact_id = row.address, row.contact_id
    session.delete(row)
    session.flush()
    if identity.contact_id != contact_id:
        # another contact already has this address (mail came from it): the visitor just proved they
        # own it, so both are one customer, merged automatically (undone like any merge)
        merges.merge_in_session(session, outbox, identity.contact_id, contact_id, None,
                                f"the web visitor confirmed {address}, which contact "
                                f"{identity.contact_id} writes from")
    identity.verified_at = identity.verified_at or now
    session.add(identity)
    return Verified(address=address, verified_at=now)


async def confirm(ctx: ServiceContext, conversation_id: int, code: str) -> Verified:
    """Check ``code`` against the conversation's contact's pending code; Invalid (422) saying why
    when it is refused. A wrong code counts against ``email_code_attempts``."""
    settings = ctx.settings
    outcome = await ctx.act(_confirm, conversation_id, code_hash(settings.secret_key, code),
                            settings.email_code_attempts, utcnow())
    if isinstance(outcome, str):
        raise Invalid(outcome)
    return outcome
