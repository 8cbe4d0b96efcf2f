"""Report routes for support leads: reports by issue type, operator and hour with the conversations
behind each figure (JSON and CSV), and the staffing forecast.

Each route parses its query, checks that the caller is a supervisor or an admin, and calls
``engine.service.reports`` or ``engine.service.metrics`` (the forecast's rules live in
``engine.service.staffing``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from engine.api import errors
from engine.api.deps import Ctx, CurrentLead
from engine.service import metrics, reports, staffing
from engine.validation import INT_MAX, Text

router = APIRouter(tags=["reports"], responses=errors.responses(400, 401, 403, 422))

Iso = Annotated[Text | None, Query(max_length=64, description="ISO date or datetime (UTC unless given)")]
Zone = Annotated[Text, Query(max_length=64, description="IANA time zone for hours of the day")]
Key = Annotated[Text | None, Query(max_length=100)]


@router.get("/api/reports")
async def get_report(ctx: Ctx, _lead: CurrentLead, start: Iso = None, end: Iso = None,
                     tz: Zone = "UTC") -> reports.Report:
    """First response and resolution time by tag and topic, CSAT and times per operator, arrivals
    and handoffs by hour of day, bot containment and first-contact resolution, over conversations
    created between ``start`` and ``end`` (default: the last 7 days)."""
    begin, stop = metrics.parse_window(start, end)
    return await ctx.read(reports.report, begin, stop, staffing.zone(tz))


def drill_filter(tag: Key = None, topic: Key = None,
                 operator_id: Annotated[int | None, Query(ge=0, le=INT_MAX)] = None,
                 hour: Annotated[int | None, Query(ge=0, le=23, description="hour of day it began, in tz")]
                 = None,
                 handed_off: bool | None = None, contained: bool | None = None) -> reports.Filter:
    return reports.Filter(tag=tag, topic=topic, operator_id=operator_id, hour=hour, handed_off=handed_off,
                          contained=contained)


Which = Annotated[reports.Filter, Depends(drill_filter)]


async def _drill(ctx: Ctx, start: str | None, end: str | None, tz: str,
                 which: reports.Filter) -> list[reports.Row]:
    begin, stop = metrics.parse_window(start, end)
    return await ctx.read(reports.conversations, begin, stop, staffing.zone(tz), which)


@router.get("/api/reports/conversations")
async def drill_down(ctx: Ctx, _lead: CurrentLead, which: Which, start: Iso = None, end: Iso = None,
                     tz: Zone = "UTC") -> list[reports.Row]:
    """The conversations behind a report figure: same window and definitions, every filter given
    must match."""
    return await _drill(ctx, start, end, tz, which)


@router.get("/api/reports/conversations.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "the conversations as CSV"}})
async def export_csv(ctx: Ctx, _lead: CurrentLead, which: Which, start: Iso = None, end: Iso = None,
                     tz: Zone = "UTC") -> Response:
    """The drill-down as CSV, for a spreadsheet."""
    rows = await _drill(ctx, start, end, tz, which)
    return Response(reports.to_csv(rows), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="baton-conversations.csv"'})


@router.get("/api/staffing")
async def get_staffing(ctx: Ctx, _lead: CurrentLead, start: Iso = None, end: Iso = None,
                       service_level: Annotated[float, Query(gt=0, lt=1)] = 0.8,
                       answer_seconds: Annotated[float, Query(ge=0, le=86400)] = 30,
                       concurrency: Annotated[float | None, Query(ge=0.1, le=100)] = None,
                       tz: Zone = "UTC") -> staffing.Forecast:
    """Operators needed for each hour of the week (Monday 00:00 first, in ``tz``) to answer
    ``service_level`` of visitors within ``answer_seconds``, by Erlang C over ``concurrency``
    chats per operator (default: their configured capacity), from the traffic between ``start``
    and ``end`` (default: the last 28 days)."""
    begin, stop = metrics.parse_window(start, end, days=28)
    target = staffing.Target(share=service_level, answer_seconds=answer_seconds)
    return await ctx.read(metrics.staffing_forecast, begin, stop, target, staffing.zone(tz), concurrency)
