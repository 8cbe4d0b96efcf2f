"""Admin routes: operators, teams and canned responses (admins only). Each parses, checks the admin
and calls ``engine.service.operators``, which runs the write in its own transaction."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from engine.api import errors
from engine.api.deps import Ctx, CurrentAdmin, IdPath
from engine.models import (
    AuditEntryPublic,
    CannedResponse,
    CannedResponseCreate,
    CannedResponsePublic,
    Operator,
    OperatorCreate,
    OperatorPublic,
    Team,
    TeamCreate,
    TeamPublic,
)
from engine.service import admin as staff
from engine.service import operators
from engine.validation import CleanInput

router = APIRouter(prefix="/api/admin", tags=["admin"],
                   responses=errors.responses(400, 401, 403, 404, 409, 413))


class NewOperator(OperatorCreate, CleanInput):
    """An operator account as an admin sends it (no NUL, no lone surrogate, ids a database integer holds)."""


class NewTeam(TeamCreate, CleanInput):
    """A team as an admin sends it."""


class NewCanned(CannedResponseCreate, CleanInput):
    """A canned response as an admin sends it."""


@router.get("/operators")
async def list_operators(ctx: Ctx, admin: CurrentAdmin) -> list[OperatorPublic]:
    return await ctx.read(operators.listing, Operator, OperatorPublic)


@router.post("/operators", status_code=status.HTTP_201_CREATED)
async def add_operator(ctx: Ctx, admin: CurrentAdmin, body: NewOperator) -> OperatorPublic:
    return await staff.create(ctx, admin.id, "operator", operators.create_operator, body, OperatorPublic)


@router.get("/teams")
async def list_teams(ctx: Ctx, admin: CurrentAdmin) -> list[TeamPublic]:
    return await ctx.read(operators.listing, Team, TeamPublic)


@router.post("/teams", status_code=status.HTTP_201_CREATED)
async def add_team(ctx: Ctx, admin: CurrentAdmin, body: NewTeam) -> TeamPublic:
    return await staff.create(ctx, admin.id, "team", operators.create_team, body, TeamPublic)


@router.get("/canned")
async def list_canned(ctx: Ctx, admin: CurrentAdmin) -> list[CannedResponsePublic]:
    return await ctx.read(operators.listing, CannedResponse, CannedResponsePublic)


@router.post("/canned", status_code=status.HTTP_201_CREATED)
async def add_canned(ctx: Ctx, admin: CurrentAdmin, body: NewCanned) -> CannedResponsePublic:
    return await staff.create(ctx, admin.id, "canned", operators.create_canned, body, CannedResponsePublic)


@router.patch("/operators/{operator_id}")
async def change_operator(ctx: Ctx, admin: CurrentAdmin, operator_id: IdPath,
                          body: staff.OperatorChange) -> OperatorPublic:
    """Role, skills and languages (``lang:de``), capacity, team, name, or deactivate (``active``:
    false signs them out of new work and hands their conversations back); audited with ``reason``."""
    changed = await staff.update_operator(ctx, admin.id, operator_id, body)
    return OperatorPublic.model_validate(changed, from_attributes=True)


@router.patch("/teams/{team_id}")
async def change_team(ctx: Ctx, admin: CurrentAdmin, team_id: IdPath, body: staff.TeamChange) -> TeamPublic:
    """Skills, overflow target (``backup_team_id``) and timeout (``overflow_after_seconds``); audited."""
    changed = await staff.update_team(ctx, admin.id, team_id, body)
    return TeamPublic.model_validate(changed, from_attributes=True)


@router.patch("/canned/{canned_id}")
async def change_canned(ctx: Ctx, admin: CurrentAdmin, canned_id: IdPath,
                        body: staff.CannedChange) -> CannedResponsePublic:
    """Edit a canned reply; its placeholders are checked as when it was created; audited."""
    changed = await staff.update_canned(ctx, admin.id, canned_id, body)
    return CannedResponsePublic.model_validate(changed, from_attributes=True)


@router.get("/audit")
async def audit(ctx: Ctx, admin: CurrentAdmin, target: Annotated[str | None, Query(max_length=64)] = None,
                limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[AuditEntryPublic]:
    """Who changed what, when and why, newest first."""
    return await ctx.read(staff.audit_log, limit, target)


@router.get("/handoff")
async def get_handoff(ctx: Ctx, admin: CurrentAdmin) -> staff.HandoffSettings:
    """The handoff detector's thresholds, the VIP rule and the topics that always go to a person."""
    return staff.handoff_settings(ctx)


@router.put("/handoff")
async def put_handoff(ctx: Ctx, admin: CurrentAdmin, body: staff.HandoffSettings) -> staff.HandoffSettings:
    """Apply them to the running bot at once, keep them in ``BATON_HANDOFF_CONFIG`` if set; audited."""
    return await staff.update_handoff(ctx, admin.id, body)
