"""Durable bot turns: the ``PendingTurn`` rows that say "this visitor message still needs the bot".

A row is written in the transaction that stores the visitor's message (``conversations.accept``),
already claimed by the worker that acknowledged it, and deleted in the transaction that stores the
bot's answer (``conversations.apply_bot_turn``), which first checks that the claim is still its
own. So an acknowledged question is answered once: a crash before that commit leaves the row, and a
worker whose lease ran out cannot apply a second answer after another worker took the turn over.

Claims are leases. The running worker renews its lease while the turn runs; a row whose lease has
run out (its worker died or restarted) is claimed again by the periodic sweep of any worker, or at
once by a resend of the same message. On PostgreSQL the sweep picks rows with
``SELECT ... FOR UPDATE SKIP LOCKED`` (workers never wait on each other's candidates); on both
backends the claim itself is a conditional ``UPDATE`` that only one worker can win.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Table, bindparam, delete, insert, or_, update
from sqlmodel import Session, col, select

from engine.models import Message, MessagePublic
from engine.models.conversation import PendingTurn

_PENDING: Table = PendingTurn.__table__
# the two statements on every bot turn's path, built (and compiled) once and run on the session's
# connection: no unit-of-work flush, no statement rebuilt per call (docs/scaling.md, the profile)
_RECORD = insert(_PENDING)
_FINISH = delete(_PENDING).where(_PENDING.c.message_id == bindparam("message"),
                                 _PENDING.c.claim == bindparam("token"))


@dataclass(frozen=True)
class TurnClaim:
    """One worker's hold on one pending turn: only this token may apply its answer."""

    conversation_id: int
    message_id: int
    token: str


def _token() -> str:
    return secrets.token_hex(8)


def _due(now: datetime) -> ColumnElement[bool]:
    """Rows nobody holds: never claimed, or their lease has run out."""
    return or_(col(PendingTurn.lease_until).is_(None), col(PendingTurn.lease_until) < now)


def record(session: Session, message: Message | MessagePublic, now: datetime, lease: timedelta) -> TurnClaim:
    """The turn ``message`` needs, claimed by the caller (inside the transaction storing it)."""
    claim = TurnClaim(message.conversation_id, message.id, _token())
    session.connection().execute(_RECORD, {"message_id": message.id,
                                           "conversation_id": message.conversation_id, "claim": claim.token,
                                           "lease_until": now + lease, "attempts": 1, "created_at": now})
    return claim


def _take_over(session: Session, row_id: int, now: datetime, lease: timedelta) -> str | None:
    """Claim the row if its lease has run out; the new token, or None if another worker won it."""
    token = _token()
    result = session.execute(update(PendingTurn).where(col(PendingTurn.id) == row_id, _due(now))
                             .values(claim=token, lease_until=now + lease,
                                     attempts=PendingTurn.attempts + 1))
    return token if result.rowcount == 1 else None


def reclaim(session: Session, message_id: int, now: datetime, lease: timedelta) -> TurnClaim | None:
    """A resend of ``message_id``: its turn, if it is still pending and nobody holds a live lease."""
    row = session.exec(select(PendingTurn).where(PendingTurn.message_id == message_id)).first()
    if row is None:
        return None
    token = _take_over(session, row.id, now, lease)
    return TurnClaim(row.conversation_id, row.message_id, token) if token else None


def claim_due(session: Session, now: datetime, lease: timedelta, limit: int = 50) -> list[TurnClaim]:
    """Pending turns whose lease has run out, oldest first, claimed for this worker."""
    rows = session.exec(select(PendingTurn.id, PendingTurn.conversation_id, PendingTurn.message_id)
                        .where(_due(now)).order_by(col(PendingTurn.id)).limit(limit)
                        .with_for_update(skip_locked=True)).all()
    claims = []
    for row_id, conversation_id, message_id in rows:
        token = _take_over(session, row_id, now, lease)
        if token is not None:
            claims.append(TurnClaim(conversation_id, message_id, token))
    return claims


def any_due(session: Session, now: datetime) -> bool:
    """Whether a sweep would find something (a read, so an idle tick writes nothing)."""
    return session.exec(select(PendingTurn.id).where(_due(now)).limit(1)).first() is not None


def renew(session: Session, claim: TurnClaim, now: datetime, lease: timedelta) -> bool:
    """Extend the caller's lease; False if the turn is no longer its own."""
    result = session.execute(update(PendingTurn).where(col(PendingTurn.message_id) == claim.message_id,
                                                       col(PendingTurn.claim) == claim.token)
                             .values(lease_until=now + lease))
    return result.rowcount == 1


def release(session: Session, claim: TurnClaim) -> None:
    """Give the turn up (this worker is stopping): any worker may claim it at once, without waiting
    for the lease to run out."""
    session.execute(update(PendingTurn).where(col(PendingTurn.message_id) == claim.message_id,
                                              col(PendingTurn.claim) == claim.token)
                    .values(claim=None, lease_until=None))


def finish(session: Session, claim: TurnClaim) -> bool:
    """Remove the pending turn if ``claim`` still holds it (in the transaction that answers it). One
    DELETE on the claim's token: it locks the row like ``SELECT ... FOR UPDATE`` did, and a worker
    that took the turn over meanwhile changed the token, so nothing is deleted and False comes back."""
    result = session.connection().execute(_FINISH, {"message": claim.message_id, "token": claim.token})
    return result.rowcount == 1


def pending(session: Session, conversation_id: int | None = None) -> list[int]:
    """Message ids still waiting for the bot (all, or one conversation's), for tests and the docs."""
    query = select(PendingTurn.message_id).order_by(col(PendingTurn.id))
    if conversation_id is not None:
        query = query.where(PendingTurn.conversation_id == conversation_id)
    return list(session.exec(query).all())
