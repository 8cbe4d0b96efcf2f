"""Merging two contacts into one customer, and undoing it, with the history kept.

The same person often arrives as several contacts: the widget, a text from a phone, a mail from an
address nobody confirmed. ``engine.service.contacts`` links them automatically only on an identity
the channel reported or the visitor proved; everything else is an operator's decision, taken here:

* :func:`merge` moves the merged contact's (``source``) conversations, identities and pending email
  confirmation to the kept contact (``target``) and fills the target's empty fields (name, email,
  phone, region, value; VIP if either was). The source row stays, empty, so an unmerge can refill
  it; a contact merged away cannot be merged into, nor merged again, until it is unmerged.
* :func:`unmerge` moves exactly what the merge moved back and restores the fields it filled, when
  nobody changed them since. What arrived after the merge (a new identity, a new conversation)
  stays with the kept contact: it arrived on the merged customer. A row moved again since (by a
  later merge of the kept contact into a third one) is refused with 409 naming that merge.
* Every merge and unmerge is a ``ContactMerge`` row (who, when, why, what moved); an operator's is
  also in the supervisor audit (``AuditEntry`` ``contact.merged`` / ``contact.unmerged``). Each one
  publishes ``contact.merged`` / ``contact.unmerged`` on ``operators`` after the commit.

A verified email or phone that another contact already holds is merged automatically
(:func:`merge_in_session` from ``confirmation``, ``actor_id`` None).
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from engine.bus import OPERATORS
from engine.events import ContactMerged
from engine.models import (
    AuditEntry,
    Confirmation,
    Contact,
    ContactIdentity,
    ContactMerge,
    ContactMergePublic,
    Conversation,
    utcnow,
)
from engine.service.errors import Conflict, Invalid, NotFound
from engine.service.runtime import Outbox, ServiceContext

FILLED = ("name", "email", "phone", "region", "value")


def _locked(session: Session, contact_id: int) -> Contact:
    contact = session.exec(select(Contact).where(Contact.id == contact_id).with_for_update()).first()
    if contact is None:
        raise NotFound(f"contact {contact_id} does not exist")
    return contact


def merged_into(session: Session, contact_id: int) -> ContactMerge | None:
    """The active merge that emptied this contact into another, if any."""
    return session.exec(select(ContactMerge).where(ContactMerge.source_id == contact_id,
                                                   col(ContactMerge.undone_at).is_(None))).first()


def _ids(session: Session, table: Any, contact_id: int) -> list[int]:
    return list(session.exec(select(table.id).where(table.contact_id == contact_id)
                             .order_by(col(table.id))).all())


def _move(session: Session, table: Any, ids: list[int], to_contact: int) -> None:
    for row in session.exec(select(table).where(col(table.id).in_(ids))).all() if ids else []:
        row.contact_id = to_contact
        session.add(row)


def merge_in_session(session: Session, outbox: Outbox, target_id: int, source_id: int,
                     actor_id: int | None, reason: str) -> ContactMerge:
    """The merge inside a caller's transaction (the email confirmation's automatic merge)."""
    if target_id == source_id:
        raise Invalid("a contact cannot be merged into itself")
    first, second = sorted((target_id, source_id))  # one lock order: two merges at once never deadlock
    locked = {first: _locked(session, first), second: _locked(session, second)}
    target, source = locked[target_id], locked[source_id]
    for contact in (target, source):
        away = merged_into(session, contact.id)
        if away is not None:
            raise Conflict(f"contact {contact.id} was merged into contact {away.target_id} "
                           f"(merge {away.id}): merge with that one, or unmerge it first")
    conversation_ids = _ids(session, Conversation, source_id)
    identity_ids = _ids(session, ContactIdentity, source_id)
    confirmation_ids = _ids(session, Confirmation, source_id)
    if confirmation_ids:
        # one pending code per contact and channel: the kept contact's stays; the other visitor asks again
        kept = set(session.exec(select(Confirmation.channel).where(Confirmation.contact_id == target_id)))
        rows = session.exec(select(Confirmation).where(col(Confirmation.id).in_(confirmation_ids))).all()
        for pending in rows:
            if pending.channel in kept:
                session.delete(pending)
                confirmation_ids.remove(pending.id)
    filled: dict[str, list[Any]] = {}
    for name in FILLED:
        if getattr(target, name) is None and getattr(source, name) is not None:
            filled[name] = [None, getattr(source, name)]
            setattr(target, name, getattr(source, name))
    if source.vip and not target.vip:
        filled["vip"] = [False, True]
        target.vip = True
    session.add(target)
    _move(session, Conversation, conversation_ids, target_id)
    _move(session, ContactIdentity, identity_ids, target_id)
    _move(session, Confirmation, confirmation_ids, target_id)
    moved = {"conversations": conversation_ids, "identities": identity_ids,
             "confirmations": confirmation_ids, "filled": filled}
    row = ContactMerge(target_id=target_id, source_id=source_id, actor_id=actor_id, reason=reason.strip(),
                       moved=moved)
    session.add(row)
    session.flush()
    if actor_id is not None:
        session.add(AuditEntry(actor_id=actor_id, action="contact.merged", target=f"contact:{target_id}",
                               changes={"source_id": [source_id, None], "merge_id": [None, row.id],
                                        "conversations": [None, conversation_ids],
                                        "identities": [None, identity_ids], **filled},
                               reason=reason.strip()))
    outbox.add(OPERATORS, ContactMerged(type="contact.merged", merge_id=row.id, target_id=target_id,
                                        source_id=source_id, actor_id=actor_id,
                                        conversations=conversation_ids))
    return row


async def merge(ctx: ServiceContext, target_id: int, source_id: int, actor_id: int,
                reason: str = "") -> ContactMergePublic:
    """An operator joins ``source_id`` into ``target_id`` (one customer from then on)."""
    row = await ctx.act(merge_in_session, target_id, source_id, actor_id, reason)
    return ContactMergePublic.model_validate(row, from_attributes=True)


def _unmerge(session: Session, outbox: Outbox, merge_id: int, actor_id: int, reason: str) -> ContactMerge:
    row = session.exec(select(ContactMerge).where(ContactMerge.id == merge_id).with_for_update()).first()
    if row is None:
        raise NotFound(f"merge {merge_id} does not exist")
    if row.undone_at is not None:
        raise Conflict(f"merge {merge_id} was already undone at {row.undone_at.isoformat()}")
    first, second = sorted((row.target_id, row.source_id))
    locked = {first: _locked(session, first), second: _locked(session, second)}
    target, source = locked[row.target_id], locked[row.source_id]
    later = merged_into(session, target.id)
    if later is not None:
        raise Conflict(f"contact {target.id} was merged into contact {later.target_id} since "
                       f"(merge {later.id}): unmerge that first")
    moved = row.moved
    for table, key in ((Conversation, "conversations"), (ContactIdentity, "identities"),
                       (Confirmation, "confirmations")):
        ids = list(moved.get(key, []))
        rows = list(session.exec(select(table).where(col(table.id).in_(ids))).all()) if ids else []
        elsewhere = [r.id for r in rows if r.contact_id != target.id]
        if elsewhere:
            raise Conflict(f"{key} {elsewhere} of merge {merge_id} no longer belong to contact {target.id}")
        _move(session, table, [r.id for r in rows], source.id)
    restored: dict[str, list[Any]] = {}
    for name, (before, after) in moved.get("filled", {}).items():
        if getattr(target, name) == after:  # unchanged since the merge: put back what it was
            setattr(target, name, before)
            restored[name] = [after, before]
    session.add(target)
    row.undone_at, row.undone_by, row.undo_reason = utcnow(), actor_id, reason.strip()
    session.add(row)
    session.add(AuditEntry(actor_id=actor_id, action="contact.unmerged", target=f"contact:{target.id}",
                           changes={"source_id": [None, source.id], "merge_id": [merge_id, None],
                                    "conversations": [moved.get("conversations", []), None],
                                    "identities": [moved.get("identities", []), None], **restored},
                           reason=reason.strip()))
    outbox.add(OPERATORS, ContactMerged(type="contact.unmerged", merge_id=row.id, target_id=target.id,
                                        source_id=source.id, actor_id=actor_id,
                                        conversations=list(moved.get("conversations", []))))
    return row


async def unmerge(ctx: ServiceContext, merge_id: int, actor_id: int, reason: str = "") -> ContactMergePublic:
    """Split a merge: both contacts back as they were, with their conversations and identities."""
    row = await ctx.act(_unmerge, merge_id, actor_id, reason)
    return ContactMergePublic.model_validate(row, from_attributes=True)


def history(session: Session, contact_id: int) -> list[ContactMergePublic]:
    """Every merge this contact took part in, newest first (undone ones included)."""
    rows = session.exec(select(ContactMerge).where(
        (ContactMerge.target_id == contact_id) | (ContactMerge.source_id == contact_id))
        .order_by(col(ContactMerge.id).desc())).all()
    return [ContactMergePublic.model_validate(r, from_attributes=True) for r in rows]
