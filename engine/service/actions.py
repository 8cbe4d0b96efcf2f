"""Actions on a customer's account: ask, approve or reject, perform through the integration, audit.

Every change runs in one transaction and announces itself after the commit (``action.updated`` to
every operator, and an internal system note in the conversation: who, what, how much, the result).
Nothing runs without a person: an operator asks (from scratch or from the AI's suggestion); within
their role's limit it is performed at once, above it it waits for someone whose limit covers it.
Visitors are told nothing here; the console offers the operator a sentence to send if they choose.

Idempotent end to end: the request's ``idempotency_key`` is unique in the store, so the same click
twice finds the first row; the same key goes to the integration, so a retry after a timeout (the
shop may have done it) is performed there at most once.

A running action holds a lease a little longer than the integration's timeout: a worker that
stopped mid-call (a crash, a deploy) leaves it ``running``, and once the lease has run out any
worker's tick performs it again with the same key (:func:`resume_interrupted`), so an action is
never stuck half-done and never done twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from engine.bus import OPERATORS
from engine.events import ActionUpdated
from engine.integrations import ActionCall, ActionOutcome, IntegrationError, IntegrationRefused
from engine.models import (
    AccountAction,
    AccountActionPublic,
    ActionStatus,
    Operator,
    Role,
    Visibility,
    utcnow,
)
from engine.service import action_rules as rules
from engine.service import conversations
from engine.service.errors import Conflict, Forbidden, Invalid, NotFound
from engine.service.runtime import Outbox, ServiceContext
from engine.settings import ActionSpec, Settings
from engine.validation import CleanInput

AUDIT_LIMIT = 200
LEASE_MARGIN_SECONDS = 5.0  # past the integration's timeout, before a running action counts as stopped


class ActionRequest(CleanInput):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(min_length=1, max_length=32)
    order_number: str = Field(min_length=1, max_length=64)
    amount: Decimal = Field(max_digits=12, decimal_places=2)
    reason: str = Field(max_length=2000)
    idempotency_key: str = Field(min_length=8, max_length=80, pattern=r"^[A-Za-z0-9_.:-]+$")
    suggested: bool = False
    evidence: list[str] = Field(default=[], max_length=10)


class ActionSpecPublic(BaseModel):
    kind: str
    label: str
    unit: str  # the currency code, or "days"
    limit: Decimal  # the asking operator's own limit without approval


# --- reading ------------------------------------------------------------------------------------


def public(session: Session, settings: Settings, row: AccountAction) -> AccountActionPublic:
    spec = _spec(settings, row.kind)
    ids = {row.requested_by, *([row.approved_by] if row.approved_by else [])}
    names = dict(session.exec(select(Operator.id, Operator.name).where(col(Operator.id).in_(ids))).all())
    approvers: list[str] = []
    if row.status == ActionStatus.awaiting_approval and spec is not None:
        roles = rules.authority(spec, "", row.amount).approver_roles
        approvers = list(
            session.exec(
                select(Operator.name)
                .where(col(Operator.role).in_(roles))
                .order_by(col(Operator.name))
                .limit(10)
            ).all()
        )
    done = spec is not None and row.status == ActionStatus.completed
    return AccountActionPublic(
        **row.model_dump(exclude={"idempotency_key"}),
        label=spec.label if spec else row.kind,
        requested_by_name=names.get(row.requested_by, ""),
        approved_by_name=names.get(row.approved_by) if row.approved_by else None,
        approvers=approvers,
        visitor_text=rules.visitor_text(spec, row.amount, row.unit, row.order_number) if done else "",
    )


def specs_for(settings: Settings, role: str) -> list[ActionSpecPublic]:
    return [
        ActionSpecPublic(
            kind=s.kind,
            label=s.label,
            unit=rules.unit_of(s, settings.integration_currency),
            limit=rules.limit_of(s, role),
        )
        for s in settings.actions
    ]


def for_conversation(session: Session, settings: Settings, conversation_id: int) -> list[AccountActionPublic]:
    rows = session.exec(
        select(AccountAction)
        .where(AccountAction.conversation_id == conversation_id)
        .order_by(col(AccountAction.id))
    ).all()
    return [public(session, settings, row) for row in rows]


def audit(
    session: Session, settings: Settings, status: ActionStatus | None = None, limit: int = AUDIT_LIMIT
) -> list[AccountActionPublic]:
    """The newest actions across conversations (the supervisor's audit)."""
    query = select(AccountAction).order_by(col(AccountAction.id).desc()).limit(limit)
    if status is not None:
        query = query.where(AccountAction.status == status)
    return [public(session, settings, row) for row in session.exec(query).all()]


# --- changing -----------------------------------------------------------------------------------


def _spec(settings: Settings, kind: str) -> ActionSpec | None:
    return next((s for s in settings.actions if s.kind == kind), None)


def _row(session: Session, action_id: int) -> AccountAction:
    row = session.exec(select(AccountAction).where(AccountAction.id == action_id).with_for_update()).first()
    if row is None:
        raise NotFound(f"action {action_id} does not exist")
    return row


def _operator(session: Session, operator_id: int) -> Operator:
    operator = session.get(Operator, operator_id)
    if operator is None:
        raise NotFound(f"operator {operator_id} does not exist")
    return operator


def _what(row: AccountAction, label: str, *, lower: bool = False) -> str:
    """``Refund of £24.00 on LG-20500`` (``lower``: for the middle of a sentence)."""
    return (
        f"{label.lower() if lower else label} of {rules.describe(row.amount, row.unit)} on {row.order_number}"
    )


def _announce(session: Session, outbox: Outbox, settings: Settings, row: AccountAction, note: str) -> None:
    """The internal system note in the conversation, and the event to every operator."""
    conversation = conversations.lock(session, row.conversation_id)
    conversations.append(session, outbox, conversation, Role.system, note, visibility=Visibility.internal)
    outbox.add(
        OPERATORS, ActionUpdated(conversation_id=row.conversation_id, action=public(session, settings, row))
    )


def _record(
    session: Session,
    outbox: Outbox,
    settings: Settings,
    conversation_id: int,
    operator_id: int,
    body: ActionRequest,
) -> tuple[AccountAction, bool]:
    """Store the request; True when it is to be performed now (within the asker's limit)."""
    existing = session.exec(
        select(AccountAction).where(AccountAction.idempotency_key == body.idempotency_key)
    ).first()
    if existing is not None:
        return _same_request(existing, conversation_id, body), False
    spec = rules.spec_for(settings.actions, body.kind)
    amount, reason = rules.checked_request(spec, body.amount, body.reason)
    operator = _operator(session, operator_id)
    conversations.lock(session, conversation_id)  # exists, and notes take their seq in order
    allowed = rules.authority(spec, operator.role, amount)
    unit = rules.unit_of(spec, settings.integration_currency)
    row = AccountAction(
        conversation_id=conversation_id,
        kind=spec.kind,
        order_number=body.order_number.strip(),
        amount=amount,
        unit=unit,
        reason=reason,
        idempotency_key=body.idempotency_key,
        requested_by=operator_id,
        suggested=body.suggested,
        evidence=body.evidence,
        status=ActionStatus.running if allowed.allowed else ActionStatus.awaiting_approval,
        attempts=1 if allowed.allowed else 0,
        lease_until=_lease(settings) if allowed.allowed else None,
    )
    session.add(row)
    session.flush()
    what = _what(row, spec.label, lower=True)
    if allowed.allowed:
        note = f"{operator.name} asked for a {what}, within their limit. Reason: {reason}"
    else:
        note = (
            f"{operator.name} asked for a {what}, over their limit of "
            f"{rules.describe(allowed.limit, unit)}: it waits for approval by "
            f"{rules.approver_phrase(allowed.approver_roles)}. Reason: {reason}"
        )
    _announce(session, outbox, settings, row, note)
    return row, allowed.allowed


def _same_request(existing: AccountAction, conversation_id: int, body: ActionRequest) -> AccountAction:
    if (existing.conversation_id, existing.kind, existing.order_number.upper()) != (
        conversation_id,
        body.kind,
        body.order_number.strip().upper(),
    ) or existing.amount != body.amount:
        raise Conflict("this idempotency key was already used for a different action; send a new key")
    return existing


def _decision(
    session: Session, settings: Settings, action_id: int, approver_id: int
) -> tuple[AccountAction, Operator, ActionSpec]:
    """The action awaiting approval, the person deciding and the action's spec; refused unless their
    role's limit covers the amount (whoever may approve may also reject)."""
    row = _row(session, action_id)
    if row.status != ActionStatus.awaiting_approval:
        raise Conflict(f"action {action_id} is {row.status.replace('_', ' ')}, not awaiting approval")
    approver = _operator(session, approver_id)
    spec = rules.spec_for(settings.actions, row.kind)
    allowed = rules.authority(spec, approver.role, row.amount)
    if not allowed.allowed:
        raise Forbidden(
            f"{_what(row, spec.label)} is over your limit of "
            f"{rules.describe(allowed.limit, row.unit)}: it needs "
            f"{rules.approver_phrase(allowed.approver_roles)}"
        )
    return row, approver, spec


def _approve(
    session: Session, outbox: Outbox, settings: Settings, action_id: int, approver_id: int, note: str
) -> AccountAction:
    row, approver, spec = _decision(session, settings, action_id, approver_id)
    row.status, row.approved_by, row.decided_at = ActionStatus.running, approver_id, utcnow()
    row.lease_until = _lease(settings)
    row.decision_note, row.attempts = note.strip(), row.attempts + 1
    session.add(row)
    session.flush()
    said = f" ({row.decision_note})" if row.decision_note else ""
    note_text = f"{approver.name} approved the {_what(row, spec.label, lower=True)}{said}."
    _announce(session, outbox, settings, row, note_text)
    return row


def _reject(
    session: Session, outbox: Outbox, settings: Settings, action_id: int, approver_id: int, note: str
) -> AccountAction:
    if len(note.strip()) < rules.MIN_REASON_CHARS:
        raise Invalid("say why it is rejected (at least 5 characters): the asker reads it")
    row, approver, spec = _decision(session, settings, action_id, approver_id)
    row.status, row.approved_by, row.decided_at, row.decision_note = (
        ActionStatus.rejected,
        approver_id,
        utcnow(),
        note.strip(),
    )
    session.add(row)
    session.flush()
    note_text = f"{approver.name} rejected the {_what(row, spec.label, lower=True)}: {row.decision_note}"
    _announce(session, outbox, settings, row, note_text)
    return row


def _retry(
    session: Session, outbox: Outbox, settings: Settings, action_id: int, operator_id: int
) -> AccountAction:
    row = _row(session, action_id)
    if row.status != ActionStatus.failed:
        raise Conflict(
            f"action {action_id} is {row.status.replace('_', ' ')}; only a failed action is retried"
        )
    operator = _operator(session, operator_id)
    spec = rules.spec_for(settings.actions, row.kind)
    if row.approved_by is None and not rules.authority(spec, operator.role, row.amount).allowed:
        raise Forbidden(f"{_what(row, spec.label)} is over your limit: ask for it again to get it approved")
    row.status, row.attempts, row.error = ActionStatus.running, row.attempts + 1, ""
    row.lease_until = _lease(settings)
    session.add(row)
    session.flush()
    _announce(
        session,
        outbox,
        settings,
        row,
        f"{operator.name} is trying the {_what(row, spec.label, lower=True)} again (attempt {row.attempts}).",
    )
    return row


def _finish(
    session: Session,
    outbox: Outbox,
    settings: Settings,
    action_id: int,
    outcome: ActionOutcome | None,
    error: str,
) -> AccountAction:
    row = _row(session, action_id)
    if row.status == ActionStatus.completed:  # a resumed call finished first: the shop did it once
        return row
    spec = rules.spec_for(settings.actions, row.kind)
    what = _what(row, spec.label)
    row.lease_until = None
    if outcome is not None:
        row.status, row.completed_at = ActionStatus.completed, utcnow()
        row.result = {
            "reference": outcome.reference,
            "message": outcome.message,
            "replayed": outcome.replayed,
        }
        note = f"Done: {what} ({outcome.message}; reference {outcome.reference})."
    else:
        row.status, row.error = ActionStatus.failed, error
        note = f"Failed: {what}: {error}"
    session.add(row)
    session.flush()
    _announce(session, outbox, settings, row, note)
    return row


def _lease(settings: Settings) -> datetime:
    return utcnow() + timedelta(seconds=settings.integration_timeout_seconds + LEASE_MARGIN_SECONDS)


def _interrupted(session: Session, now: datetime) -> list[int]:
    return list(session.exec(
        select(AccountAction.id).where(
            AccountAction.status == ActionStatus.running,
            or_(col(AccountAction.lease_until).is_(None), col(AccountAction.lease_until) < now),
        )
    ).all())


def _reclaim(session: Session, outbox: Outbox, settings: Settings, action_id: int, now: datetime) -> bool:
    """Take over an interrupted action: one conditional update, so of two workers' ticks only one
    wins it; the winner announces the new attempt."""
    taken = session.execute(
        update(AccountAction)
        .where(
            col(AccountAction.id) == action_id,
            col(AccountAction.status) == ActionStatus.running,
            or_(col(AccountAction.lease_until).is_(None), col(AccountAction.lease_until) < now),
        )
        .values(lease_until=_lease(settings), attempts=AccountAction.attempts + 1)
    ).rowcount
    if not taken:
        return False
    row = _row(session, action_id)
    session.refresh(row)
    spec = rules.spec_for(settings.actions, row.kind)
    _announce(
        session,
        outbox,
        settings,
        row,
        f"The {_what(row, spec.label, lower=True)} was interrupted (the server stopped while asking "
        f"the shop); trying it again with the same key, so the shop does it at most once "
        f"(attempt {row.attempts}).",
    )
    return True


def _call(session: Session, action_id: int) -> tuple[AccountAction, str, str | None]:
    row = session.get(AccountAction, action_id)
    approver = session.get(Operator, row.approved_by) if row.approved_by else None
    return row, _operator(session, row.requested_by).email, approver.email if approver else None


async def _perform(ctx: ServiceContext, action_id: int) -> AccountActionPublic:
    """Call the integration (outside any transaction) and store what it answered."""
    row, asker, approver = await ctx.read(_call, action_id)
    outcome, error = None, ""
    if ctx.integration is None:
        error = "no account integration is configured, so nothing was done"
    else:
        call = ActionCall(
            order_number=row.order_number,
            amount=row.amount,
            reason=row.reason,
            requested_by=asker,
            approved_by=approver,
            reference=f"baton:conversation:{row.conversation_id}",
        )
        try:
            outcome = await ctx.integration.perform(row.kind, call, row.idempotency_key)
        except IntegrationRefused as exc:
            error = f"the shop refused it: {exc.message}"
        except IntegrationError as exc:
            error = (
                f"{exc.message}. It may or may not have gone through; retrying is safe (the shop "
                f"performs this request at most once)"
            )
    done = await ctx.act(_finish, ctx.settings, action_id, outcome, error)
    return await ctx.read(public, ctx.settings, done)


async def request(
    ctx: ServiceContext, conversation_id: int, operator_id: int, body: ActionRequest
) -> AccountActionPublic:
    """Ask for an action: performed now within the asker's limit, else waiting for approval. The same
    ``idempotency_key`` again answers the first request as it stands, without acting twice."""
    try:
        row, perform_now = await ctx.act(_record, ctx.settings, conversation_id, operator_id, body)
    except IntegrityError:  # the same key committed by a concurrent request first
        row, perform_now = await ctx.read(_by_key, body.idempotency_key), False
    if perform_now:
        return await _perform(ctx, row.id)
    return await ctx.read(public, ctx.settings, row)


def _by_key(session: Session, key: str) -> AccountAction:
    return session.exec(select(AccountAction).where(AccountAction.idempotency_key == key)).one()


async def approve(
    ctx: ServiceContext, action_id: int, approver_id: int, note: str = ""
) -> AccountActionPublic:
    row = await ctx.act(_approve, ctx.settings, action_id, approver_id, note)
    return await _perform(ctx, row.id)


async def reject(ctx: ServiceContext, action_id: int, approver_id: int, note: str) -> AccountActionPublic:
    row = await ctx.act(_reject, ctx.settings, action_id, approver_id, note)
    return await ctx.read(public, ctx.settings, row)


async def resume_interrupted(ctx: ServiceContext) -> list[int]:
    """Perform again, in the background, every running action whose worker stopped mid-call (its
    lease ran out); returns the ids this worker took over. Leases are wall-clock."""
    now = utcnow()
    due = await ctx.read(_interrupted, now)
    taken = [action_id for action_id in due if await ctx.act(_reclaim, ctx.settings, action_id, now)]
    for action_id in taken:
        ctx.worker.spawn(_perform(ctx, action_id), f"the resumed account action {action_id}")
    return taken


async def retry(ctx: ServiceContext, action_id: int, operator_id: int) -> AccountActionPublic:
    """Try a failed action again with its own idempotency key (safe after a timeout)."""
    row = await ctx.act(_retry, ctx.settings, action_id, operator_id)
    return await _perform(ctx, row.id)
