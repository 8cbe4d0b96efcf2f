"""Admin routes: operators, teams and canned responses (admins only)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, status
from sqlmodel import Session, SQLModel, col, select

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
from engine.service.runtime import Outbox, ServiceContext
from engine.validation import CleanInput

router = APIRouter(prefix="/api/admin", tags=["admin"],
                   responses=errors.responses(400, 401, 403, 404, 409, 413))
P = TypeVar("P", bound=SQLModel)


class NewOperator(OperatorCreate, CleanInput):
    """An operator account as an admin sends it (no NUL, no lone surrogate, ids within 64 bits)."""


class NewTeam(TeamCreate, CleanInput):
    """A team as an admin sends it."""


class NewCanned(CannedResponseCreate, CleanInput):
    """A canned response as an admin sends it."""


async def _all(ctx: ServiceContext, table: type[SQLModel], public: type[P]) -> list[P]:
    def work(session: Session) -> list[P]:
        rows = session.exec(select(table).order_by(col(table.id))).all()  # type: ignore[attr-defined]
        return [public.model_validate(row, from_attributes=True) for row in rows]

    return await ctx.read(work)


async def _create(ctx: ServiceContext, create: Callable[[Session, Any], SQLModel], data: SQLModel,
                  public: type[P]) -> P:
    def work(session: Session, _outbox: Outbox) -> P:
        return public.model_validate(create(session, data), from_attributes=True)

    return await ctx.act(work)


@router.get("/operators")
async def list_operators(ctx: Ctx, admin: CurrentAdmin) -> list[OperatorPublic]:
    return await _all(ctx, Operator, OperatorPublic)


@router.post("/operators", status_code=status.HTTP_201_CREATED)
async def add_operator(ctx: Ctx, admin: CurrentAdmin, body: NewOperator) -> OperatorPublic:
    return await _create(ctx, operators.create_operator, body, OperatorPublic)


@router.get("/teams")
async def list_teams(ctx: Ctx, admin: CurrentAdmin) -> list[TeamPublic]:
    return await _all(ctx, Team, TeamPublic)


@router.post("/teams", status_code=status.HTTP_201_CREATED)
async def add_team(ctx: Ctx, admin: CurrentAdmin, body: NewTeam) -> TeamPublic:
    return await _create(ctx, operators.create_team, body, TeamPublic)


@router.get("/canned")
async def list_canned(ctx: Ctx, admin: CurrentAdmin) -> list[CannedResponsePublic]:
    return await _all(ctx, CannedResponse, CannedResponsePublic)


@router.post("/canned", status_code=status.HTTP_201_CREATED)
async def add_canned(ctx: Ctx, admin: CurrentAdmin, body: NewCanned) -> CannedResponsePublic:
    return await _create(ctx, operators.create_canned, body, CannedResponsePublic)
