"""What admins and supervisors change on the desk while it runs, each change audited.

An operator's role, skills and languages, capacity, team and whether the account is active; a
team's skills, overflow target and timeout; a canned reply's text; and the creation of each (an
operator invited, a team, a canned reply). Every change runs in one transaction with its
``AuditEntry`` (who, when, what before and after, why) and emits ``roster.updated`` to every
operator's page after the commit, so open supervisor and admin pages redraw at once. Deactivating
an operator also takes them offline, which hands their open conversations back to the queue
(``presence``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any, Literal, TypeVar

from pydantic import ConfigDict, Field, field_validator, model_validator
from sqlmodel import Session, SQLModel, col, select

from engine.bus import OPERATORS, WORKERS
from engine.events import HandoffChanged, RosterUpdated
from engine.models import AuditEntry, AuditEntryPublic, CannedResponse, Contact, Operator, OperatorRole, Team
from engine.service import canned, presence
from engine.service.errors import Conflict, Invalid, NotFound
from engine.service.runtime import Outbox, ServiceContext
from engine.validation import CleanInput

SKILL = r"^[a-z0-9][a-z0-9_.-]*(:[a-z0-9][a-z0-9_.-]*)?$"


def _skills(values: list[str]) -> list[str]:
    """Lower-cased, stripped, unique, sorted; each ``word`` or ``prefix:word`` (``lang:de``)."""
    out = sorted({v.strip().lower() for v in values if v.strip()})
    wrong = [v for v in out if not re.match(SKILL, v)]
    if wrong:
        raise ValueError(f"not a skill: {', '.join(wrong)} (use letters, digits, - _ . and one prefix "
                         "such as lang:de or topic:billing)")
    return out


class _Change(CleanInput):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="", max_length=500)


class OperatorChange(_Change):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    role: OperatorRole | None = None
    skills: list[str] | None = Field(default=None, max_length=50)
    capacity: int | None = Field(default=None, ge=0, le=100)
    team_id: int | None = Field(default=None, ge=0)
    clear_team: bool = False  # move the operator out of any team
    active: bool | None = None

    _check_skills = field_validator("skills")(lambda cls, v: None if v is None else _skills(v))


class TeamChange(_Change):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    skills: list[str] | None = Field(default=None, max_length=50)
    backup_team_id: int | None = Field(default=None, ge=0)
    clear_backup: bool = False
    overflow_after_seconds: int | None = Field(default=None, ge=0, le=86400)

    _check_skills = field_validator("skills")(lambda cls, v: None if v is None else _skills(v))


class CannedChange(_Change):
    shortcut: str | None = Field(default=None, min_length=2, max_length=64, pattern=r"^/\S+$")
    title: str | None = Field(default=None, min_length=1, max_length=200)
    text: str | None = Field(default=None, min_length=1, max_length=4000)
    tags: list[str] | None = Field(default=None, max_length=20)


def _apply(row: Any, values: dict[str, Any]) -> dict[str, list[Any]]:
    """Set each value that differs; returns ``{field: [before, after]}`` of what changed."""
    changed = {}
    for name, value in values.items():
        before = getattr(row, name)
        if before != value:
            changed[name] = [before, value]
            setattr(row, name, value)
    return changed


def _audit(session: Session, outbox: Outbox, actor_id: int, entity: str, target_id: int,
           changes: dict[str, list[Any]], reason: str, action: str = "updated") -> None:
    session.add(AuditEntry(actor_id=actor_id, action=f"{entity}.{action}", target=f"{entity}:{target_id}",
                           changes=changes, reason=reason.strip()))
    outbox.add(OPERATORS, RosterUpdated(entity=entity, target_id=target_id, actor_id=actor_id,
                                        fields=sorted(changes)))


Entity = Literal["operator", "team", "canned"]  # what an admin creates
NAMED_BY: dict[Entity, tuple[str, ...]] = {"operator": ("email", "name", "role"), "team": ("name",),
                                        "canned": ("shortcut", "title")}
P = TypeVar("P", bound=SQLModel)


async def create(ctx: ServiceContext, actor_id: int, entity: Entity, make: Callable[[Session, Any], SQLModel],
                 data: SQLModel, public: type[P]) -> P:
    """An admin's create (``operators.create_operator``, ``create_team``, ``create_canned``) in one
    transaction with its audit entry (``<entity>.created``, the fields that name it), announced as
    ``roster.updated`` like a change, so other open pages list it at once."""
    def work(session: Session, outbox: Outbox) -> P:
        row = make(session, data)
        shown = public.model_validate(row, from_attributes=True)
        named = {name: [None, getattr(shown, name)] for name in NAMED_BY[entity]}
        _audit(session, outbox, actor_id, entity, shown.id, named, "", action="created")  # type: ignore[attr-defined]
        return shown

    return await ctx.act(work)


def _check_team(session: Session, team_id: int | None, what: str) -> None:
    if team_id is not None and session.get(Team, team_id) is None:
        raise NotFound(f"{what} {team_id} does not exist")


async def update_operator(ctx: ServiceContext, actor_id: int, operator_id: int,
                          change: OperatorChange) -> Operator:
    def work(session: Session, outbox: Outbox) -> Operator:
        operator = session.get(Operator, operator_id)
        if operator is None:
            raise NotFound(f"operator {operator_id} does not exist")
        if operator_id == actor_id and (change.active is False or
                                        (change.role is not None and change.role != operator.role)):
            raise Invalid("you cannot deactivate yourself or change your own role: ask another admin")
        values = change.model_dump(exclude_none=True, exclude={"reason", "clear_team", "team_id"})
        if change.clear_team:
            values["team_id"] = None
        elif change.team_id is not None:
            _check_team(session, change.team_id, "team")
            values["team_id"] = change.team_id
        changes = _apply(operator, values)
        if changes:
            session.add(operator)
            _audit(session, outbox, actor_id, "operator", operator_id, changes, change.reason)
        return operator

    operator = await ctx.act(work)
    if change.active is False:
        await presence.set_status(ctx, operator_id, "offline")  # their conversations go back to the queue
    return operator


async def update_team(ctx: ServiceContext, actor_id: int, team_id: int, change: TeamChange) -> Team:
    def work(session: Session, outbox: Outbox) -> Team:
        team = session.get(Team, team_id)
        if team is None:
            raise NotFound(f"team {team_id} does not exist")
        values = change.model_dump(exclude_none=True, exclude={"reason", "clear_backup", "backup_team_id"})
        if change.clear_backup:
            values["backup_team_id"] = None
        elif change.backup_team_id is not None:
            if change.backup_team_id == team_id:
                raise Invalid("a team cannot overflow to itself")
            _check_team(session, change.backup_team_id, "backup team")
            values["backup_team_id"] = change.backup_team_id
        changes = _apply(team, values)
        if changes:
            session.add(team)
            _audit(session, outbox, actor_id, "team", team_id, changes, change.reason)
        return team

    return await ctx.act(work)


async def update_canned(ctx: ServiceContext, actor_id: int, canned_id: int,
                        change: CannedChange) -> CannedResponse:
    def work(session: Session, outbox: Outbox) -> CannedResponse:
        row = session.get(CannedResponse, canned_id)
        if row is None:
            raise NotFound(f"canned reply {canned_id} does not exist")
        if change.shortcut is not None and change.shortcut != row.shortcut and session.exec(
                select(CannedResponse).where(CannedResponse.shortcut == change.shortcut)).first():
            raise Conflict(f"a canned response with shortcut {change.shortcut!r} already exists")
        if change.text is not None:
            canned.check(change.text)  # placeholders checked as when it was created
        changes = _apply(row, change.model_dump(exclude_none=True, exclude={"reason"}))
        if changes:
            session.add(row)
            _audit(session, outbox, actor_id, "canned", canned_id, changes, change.reason)
        return row

    return await ctx.act(work)


async def set_vip(ctx: ServiceContext, actor_id: int, contact_id: int, vip: bool, reason: str) -> Contact:
    """A supervisor marks a contact VIP (routing ranks them ahead) or not; audited, pushed live."""
    def work(session: Session, outbox: Outbox) -> Contact:
        contact = session.get(Contact, contact_id)
        if contact is None:
            raise NotFound(f"contact {contact_id} does not exist")
        changes = _apply(contact, {"vip": vip})
        if changes:
            session.add(contact)
            _audit(session, outbox, actor_id, "contact", contact_id, changes, reason)
        return contact

    return await ctx.act(work)


REGION = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
CONTACT_ROUTING = ("region", "value")


def _contact_routing(changes: dict[str, Any]) -> dict[str, Any]:
    """``changes`` checked: a region is a short code (``eu``, ``us-west``: lowercase letters, digits
    and dashes, at most 32), a value a finite number >= 0; ``None`` clears either."""
    unknown = sorted(set(changes) - set(CONTACT_ROUTING))
    if unknown:
        raise Invalid(f"not a contact routing input: {', '.join(unknown)} (use region or value)")
    region, value = changes.get("region"), changes.get("value")
    if region is not None and not (isinstance(region, str) and REGION.match(region)):
        raise Invalid(f"region must be a short code such as eu or us-west (lowercase letters, digits and "
                      f"dashes, at most 32), got {region!r}")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                              or not math.isfinite(value) or value < 0):
        raise Invalid(f"value must be a finite number >= 0, got {value!r}")
    return {name: (float(v) if name == "value" and v is not None else v) for name, v in changes.items()}


async def set_contact_routing(ctx: ServiceContext, actor_id: int, contact_id: int, changes: dict[str, Any],
                              reason: str = "") -> Contact:
    """Set or clear a contact's routing inputs (``region``, ``value``; a key left out is kept): routing
    reads them from the contact on every pass, so the caller's next pass re-routes all of the
    contact's queued conversations. Audited, pushed live."""
    values = _contact_routing(changes)

    def work(session: Session, outbox: Outbox) -> Contact:
        contact = session.get(Contact, contact_id)
        if contact is None:
            raise NotFound(f"contact {contact_id} does not exist")
        changed = _apply(contact, values)
        if changed:
            session.add(contact)
            _audit(session, outbox, actor_id, "contact", contact_id, changed, reason)
        return contact

    return await ctx.act(work)


def audit_log(session: Session, limit: int = 100, target: str | None = None) -> list[AuditEntryPublic]:
    """The latest changes, newest first (of one ``target`` such as ``operator:5`` if given)."""
    query = select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(limit)
    if target:
        query = query.where(AuditEntry.target == target)
    return [AuditEntryPublic.model_validate(row, from_attributes=True) for row in session.exec(query).all()]


# --- handoff settings ------------------------------------------------------------------------------


class Thresholds(CleanInput):
    """A signal's two thresholds on its 0..1 score: offer a person, then hand over."""

    model_config = ConfigDict(extra="forbid")
    offer_at: float = Field(ge=0, le=1)
    escalate_at: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        if self.offer_at > self.escalate_at:
            raise ValueError(f"offer_at ({self.offer_at}) must not be above escalate_at ({self.escalate_at})")
        return self


class HandoffSettings(CleanInput):
    """What an admin tunes of the handoff detector (``handoff.HandoffConfig``)."""

    model_config = ConfigDict(extra="forbid")
    low_confidence: Thresholds
    explicit_request: Thresholds
    frustration: Thresholds
    vip_escalate: bool  # a VIP contact always goes to a person
    always_human_topics: list[str] = Field(default=[], max_length=50)  # topics/tags that always go to one
    saved_to: str | None = None  # the file it is kept in (BATON_HANDOFF_CONFIG); None: this run only
    reason: str = Field(default="", max_length=500)

    _check_topics = field_validator("always_human_topics")(lambda cls, v: _skills(v))


SIGNALS = ("low_confidence", "explicit_request", "frustration")


def _config(ctx: ServiceContext) -> Any:
    """The running detector's configuration (changed in place, so the next turn uses it), or the
    configured file's when this worker has no bot."""
    import handoff

    if ctx.bot is not None:
        return ctx.bot.detector.config
    return handoff.HandoffConfig.load(ctx.settings.handoff_config)


def handoff_settings(ctx: ServiceContext) -> HandoffSettings:
    config = _config(ctx)
    return HandoffSettings(
        **{name: Thresholds(offer_at=getattr(config, name).offer_at,
                            escalate_at=getattr(config, name).escalate_at) for name in SIGNALS},
        vip_escalate=config.rules.vip_escalate, always_human_topics=list(config.rules.topics),
        saved_to=str(ctx.settings.handoff_config) if ctx.settings.handoff_config else None)


async def update_handoff(ctx: ServiceContext, actor_id: int, change: HandoffSettings) -> HandoffSettings:
    """Apply new thresholds and rules to the running detector, keep them in the configured file
    (when there is one), and audit the change."""
    import anyio.to_thread

    config = _config(ctx)
    before = handoff_settings(ctx).model_dump(exclude={"saved_to", "reason"})
    _set_handoff(config, change)
    if ctx.settings.handoff_config:
        await anyio.to_thread.run_sync(config.save, ctx.settings.handoff_config)
    after = handoff_settings(ctx)
    now = after.model_dump(exclude={"saved_to", "reason"})
    changes = {key: [before[key], value] for key, value in now.items() if before[key] != value}

    def work(session: Session, outbox: Outbox) -> None:
        if changes:
            session.add(AuditEntry(actor_id=actor_id, action="handoff.updated", target="handoff:settings",
                                   changes=changes, reason=change.reason.strip()))
            outbox.add(OPERATORS, RosterUpdated(entity="handoff", target_id=0, actor_id=actor_id,
                                                fields=sorted(changes)))
            outbox.add(WORKERS, HandoffChanged(settings=now))  # the other workers' detectors

    await ctx.act(work)
    return after


def _set_handoff(config: Any, change: HandoffSettings) -> None:
    for name in SIGNALS:
        section = getattr(config, name)
        wanted = getattr(change, name)
        section.offer_at, section.escalate_at = wanted.offer_at, wanted.escalate_at
    config.rules.vip_escalate, config.rules.topics = change.vip_escalate, list(change.always_human_topics)


async def follow_handoff(ctx: ServiceContext) -> None:
    """The worker task that applies another worker's handoff change to this worker's running
    detector (its own change is applied again, harmlessly); runs until cancelled. A worker without
    a bot has no detector in memory: it reads the settings file when asked."""
    subscription = ctx.bus.subscribe(WORKERS)
    try:
        while True:
            _stream, event = await subscription.get()
            if isinstance(event, HandoffChanged) and ctx.bot is not None:
                _set_handoff(ctx.bot.detector.config, HandoffSettings.model_validate(event.settings))
    finally:
        subscription.close()
