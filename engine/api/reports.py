"""Report routes for support leads: the staffing forecast (and the reports of ``metrics``).

Each route parses its query, checks that the caller is a supervisor or an admin, and calls
``engine.service.metrics``; the rules live in ``engine.service.staffing``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from engine.api import errors
from engine.api.deps import Ctx, CurrentLead
from engine.service import metrics, staffing
from engine.validation import Text

router = APIRouter(tags=["reports"], responses=errors.responses(400, 401, 403, 422))

Iso = Annotated[Text | None, Query(max_length=64, description="ISO date or datetime (UTC unless given)")]


@router.get("/api/staffing")
async def get_staffing(ctx: Ctx, _lead: CurrentLead, start: Iso = None, end: Iso = None,
                       service_level: Annotated[float, Query(gt=0, lt=1)] = 0.8,
                       answer_seconds: Annotated[float, Query(ge=0, le=86400)] = 30,
                       concurrency: Annotated[float | None, Query(gt=0, le=100)] = None,
                       tz: Annotated[Text, Query(max_length=64)] = "UTC") -> staffing.Forecast:
    """Operators needed for each hour of the week (Monday 00:00 first, in ``tz``) to answer
    ``service_level`` of visitors within ``answer_seconds``, by Erlang C over ``concurrency``
    chats per operator (default: their configured capacity), from the traffic between ``start``
    and ``end`` (default: the last 28 days)."""
    begin, stop = metrics.parse_window(start, end, days=28)
    target = staffing.Target(share=service_level, answer_seconds=answer_seconds)
    return await ctx.read(metrics.staffing_forecast, begin, stop, target, staffing.zone(tz), concurrency)
