"""Business hours over HTTP: what the widget reads before the visitor writes, the visitor's
leave-a-message after hours, and the admin's editing of a team's hours. Routes validate and call
``engine.service.schedule`` / ``conversations``; the rules are ``engine.service.hours``."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

from engine.api import errors, limits, visitor
from engine.api.deps import Ctx, CurrentAdmin, IdPath, VisitorConversation
from engine.channels import sms
from engine.models import Channel, MessagePublic, Team, TeamPublic
from engine.service import confirmation, conversations, hours, schedule
from engine.validation import CleanInput, PhoneNumber

visitor_router = APIRouter(prefix="/api/visitor", tags=["visitor"],
                           dependencies=[Depends(limits.per_address)],
                           responses=errors.responses(400, 401, 409, 413, 429))
admin_router = APIRouter(prefix="/api/admin", tags=["admin"],
                         responses=errors.responses(400, 401, 403, 404, 413))

UPCOMING_HOLIDAYS = 5


class HoursNow(BaseModel):
    """Open or closed now. Closed: when it opens (``opens_at``, None if no opening is scheduled), the
    holiday that closes today, and ``notice``, the sentence the widget shows."""

    open: bool
    timezone: str | None = None
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    holiday: str | None = None
    notice: str | None = None


def _now(state: hours.HoursState, at: datetime) -> HoursNow:
    return HoursNow(open=state.open, timezone=state.timezone, opens_at=state.opens_at,
                    closes_at=state.closes_at, holiday=state.holiday,
                    notice=None if state.open else hours.banner(state, at))


@visitor_router.get("/hours")
async def desk_hours(ctx: Ctx) -> HoursNow:
    """Whether a person can answer now (any team open), for the widget to show before the visitor
    writes. Needs no token: it says nothing about anyone's conversation."""
    at = ctx.clock()
    return _now(await ctx.read(schedule.desk, at), at)


class LeaveMessageRequest(CleanInput):
    """Where to be answered (an email address, a phone number in international form, or both) and,
    optionally, the question."""

    model_config = ConfigDict(extra="forbid")

    email: EmailStr | None = Field(default=None, max_length=320)
    phone: PhoneNumber | None = None
    text: str | None = Field(default=None, max_length=20_000)

    @field_validator("email")
    @classmethod
    def _lower(cls, value: str | None) -> str | None:
        return value.lower() if value else None

    @field_validator("phone", mode="before")
    @classmethod
    def _blank(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _somewhere(self) -> LeaveMessageRequest:
        if self.email is None and self.phone is None:
            raise ValueError("give an email address or a phone number to be answered on")
        return self


class LeftMessage(BaseModel):
    """What was kept. ``confirmation``: the code mailed to ``email``, confirmed with ``POST
    /api/visitor/email/confirm``; ``phone_confirmation``: the code texted to ``phone``, confirmed
    with ``POST /api/visitor/phone/confirm``. A confirmed address is where a person's reply goes
    once the visitor left (email first, else SMS). With SMS not configured here a phone is only
    kept for the team to call, and ``phone_confirmation`` is null; so too when the SMS provider does
    not take the code (the visitor's message is not lost to an SMS outage)."""

    email: str | None
    phone: str | None
    notice: MessagePublic
    message: MessagePublic | None = None
    held_until: datetime | None = None
    confirmation: visitor.EmailPending | None = None
    phone_confirmation: visitor.PhonePending | None = None


@visitor_router.post("/leave-message", responses=errors.responses(422, 503))
async def leave_message(ctx: Ctx, request: Request, conversation: VisitorConversation,
                        body: LeaveMessageRequest) -> LeftMessage:
    """After hours (or whenever nobody may be there when a person answers): send a confirmation code
    to the visitor's email and to their phone by SMS (the same requests, and limits, as ``POST
    /api/visitor/email`` and ``/phone``), store their question, and queue the conversation for a
    person (held for the opening when the team is closed)."""
    conversations.check_can_leave_message(conversation)
    pending = texted = None
    # first: an address the mail server or SMS provider refuses stores nothing (503)
    if body.email is not None:
        pending = await visitor.send_code(ctx, request, conversation, Channel.email, body.email)
    if body.phone is not None and sms.configured(ctx.settings):
        try:
            texted = await visitor.send_code(ctx, request, conversation, Channel.sms, body.phone)
        except confirmation.Undeliverable:  # the provider is down: the message is still left, and the
            texted = None  # number kept for the team to call, as on a desk without SMS (the notice says so)
    at = ctx.clock()
    closed = await ctx.read(schedule.closed_for, conversation.id, at)
    left = await conversations.leave_message(ctx, conversation.id, email=body.email, phone=body.phone,
                                             text=body.text, closed=closed, at=at,
                                             phone_code=texted is not None)
    mailed = visitor.EmailPending(email=pending.address, expires_at=pending.expires_at) if pending else None
    sent = visitor.PhonePending(phone=texted.address, expires_at=texted.expires_at) if texted else None
    return LeftMessage(email=left.email, phone=left.phone, notice=conversations.public(left.notice),
                       message=conversations.public(left.message) if left.message else None,
                       held_until=closed.opens_at if closed else None, confirmation=mailed,
                       phone_confirmation=sent)


class TeamHoursView(BaseModel):
    """A team's hours as stored, whether it is open now, and its next public holidays."""

    team: TeamPublic
    now: HoursNow
    holidays: list[tuple[str, str]] = Field(default=[], description="[ISO date, name] of the next ones")


def _view(team: Team, at: datetime) -> TeamHoursView:
    snapshot = schedule.snapshot(team)
    state = hours.ALWAYS_OPEN if snapshot is None else hours.state(snapshot, at)
    coming = [] if snapshot is None else hours.upcoming_holidays(snapshot, at, UPCOMING_HOLIDAYS)
    return TeamHoursView(team=TeamPublic.model_validate(team, from_attributes=True), now=_now(state, at),
                         holidays=[(day.isoformat(), name) for day, name in coming])


@admin_router.get("/teams/{team_id}/hours")
async def get_team_hours(ctx: Ctx, admin: CurrentAdmin, team_id: IdPath) -> TeamHoursView:
    return _view(await ctx.read(schedule.team, team_id), ctx.clock())


@admin_router.put("/teams/{team_id}/hours", responses=errors.responses(422))
async def put_team_hours(ctx: Ctx, admin: CurrentAdmin, team_id: IdPath,
                         body: schedule.HoursChange) -> TeamHoursView:
    """Replace the team's hours: ``timezone`` (IANA), ``weekly`` intervals, ``holiday_country`` and
    ``holiday_subdivision`` (the ``holidays`` calendar); ``timezone`` null removes them (always open).
    A wrong zone, time, overlap or calendar is a 422 naming it; audited with ``reason``."""
    team = await schedule.set_hours(ctx, admin.id, team_id, body)
    return _view(team, ctx.clock())
