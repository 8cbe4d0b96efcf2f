"""Admin routes: operators, teams and canned responses (admins only). Each parses, checks the admin
and calls ``engine.service.operators``, which runs the write in its own transaction."""

from __future__ import annotations

from fastapi import APIRouter, status

from engine.api import errors
from engine.api.deps import Ctx, CurrentAdmin
from engine.models import (
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
    return await operators.add(ctx, operators.create_operator, body, OperatorPublic)


@router.get("/teams")
async def list_teams(ctx: Ctx, admin: CurrentAdmin) -> list[TeamPublic]:
    return await ctx.read(operators.listing, Team, TeamPublic)


@router.post("/teams", status_code=status.HTTP_201_CREATED)
async def add_team(ctx: Ctx, admin: CurrentAdmin, body: NewTeam) -> TeamPublic:
    return await operators.add(ctx, operators.create_team, body, TeamPublic)


@router.get("/canned")
async def list_canned(ctx: Ctx, admin: CurrentAdmin) -> list[CannedResponsePublic]:
    return await ctx.read(operators.listing, CannedResponse, CannedResponsePublic)


@router.post("/canned", status_code=status.HTTP_201_CREATED)
async def add_canned(ctx: Ctx, admin: CurrentAdmin, body: NewCanned) -> CannedResponsePublic:
    return await operators.add(ctx, operators.create_canned, body, CannedResponsePublic)
