"""``create_app(settings)``: the FastAPI application with its routers, limits and error shapes.

Nothing is created at import time. The lifespan opens the database, the bus and the bot; tests may
hand in a ready :class:`Bot` (sharing one loaded model) or run without one.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import logging
import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import operator_ui
from engine import index_reload
from engine.api import actions as account_actions
from engine.api import (
    admin,
    attachments,
    errors,
    limits,
    operator,
    reports,
    supervisor,
    visitor,
    webhooks,
    workflow,
    ws,
)
from engine.api import customers as customer_api
from engine.api import hours as hours_api
from engine.api import routing as routing_api
from engine.bus import EventBus
from engine.channels.outbound import OutboundDispatcher
from engine.db import make_engine
from engine.integrations import HttpIntegration
from engine.redis_bus import open_bus
from engine.service import admin as staff
from engine.service import workflow as service_workflow
from engine.service.bot import Bot
from engine.settings import Settings, get_settings

log = logging.getLogger(__name__)
GIL_SWITCH_SECONDS = 0.0005
# The cycle collector's thresholds once serving (Python's default: 700, 10, 10). With 2,000 sockets open
# a worker holds ~480,000 objects made after start-up (~240 per socket: coroutines, frames, the
# protocol's buffers), and each full collection walks them all: 0.37 s of CPU, for a few hundred
# objects freed. Full collections follow from objects promoted out of the young generations; with
# the first at 10,000 net allocations rather than 700, objects that live a few messages die young
# and are never promoted: 1,000 deliveries ran 9 young collections (at most 16 ms, on a loaded
# machine) and no full one, against 182 young, 17 middle and 1 full (0.37 s) with the default
# (docs/scaling.md, the delivery pass). The middle and full thresholds are Python's.
GC_THRESHOLDS = (10_000, 10, 10)


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413, whether or not Content-Length is sent.

    The body is read here, up to the limit, before the application sees any of it: a chunked body
    that runs over is answered 413 (FastAPI would turn an error raised from inside its own body
    read into a 400), and a client that leaves mid-body ends the request quietly."""

    def __init__(self, app: ASGIApp, limit: int,
                 larger: tuple[tuple[re.Pattern[str], int], ...] = ()) -> None:
        self.app, self.limit, self.larger = app, limit, larger  # larger: (path pattern, its limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = next((size for pattern, size in self.larger if pattern.fullmatch(scope["path"])), self.limit)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(int(declared), limit, send)
            return
        body, more = [], True
        seen = 0
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client left before its body arrived: nothing to answer
            seen += len(message.get("body", b""))
            if seen > limit:
                await self._refuse(seen, limit, send)
                return
            body.append(message.get("body", b""))
            more = message.get("more_body", False)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()  # after the body: wait for the disconnect, as Starlette expects
            replayed = True
            return {"type": "http.request", "body": b"".join(body), "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, size: int, limit: int, send: Send) -> None:
        response = JSONResponse(status_code=413, content={
            "detail": f"request body is {size} bytes or more; the limit is {limit} bytes"})
        await response({"type": "http"}, _nothing, send)


async def _nothing() -> Message:
    return {"type": "http.disconnect"}


UPLOAD_PATH = re.compile(r"/api/(visitor|operator/conversations/[0-9]+)/attachments")
TOKEN_IN_URL = re.compile(r"(token=)[^&\s\"]+")


class RedactTokens(logging.Filter):
    """Socket URLs carry their token in the query string (browsers cannot set headers on a
    WebSocket); uvicorn logs that URL, so the token is masked before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(TOKEN_IN_URL.sub(r"\1[redacted]", arg) if isinstance(arg, str) else arg
                                for arg in record.args)
        return True


REDACT_TOKENS = RedactTokens()


def load_bot(settings: Settings, embedder: Any | None = None) -> Bot | None:
    """The bot over the index folder, or None (every question then goes to a person) if there is no
    index yet: ``baton ingest`` builds it."""
    if not (Path(settings.index_dir) / "manifest.json").exists():
        log.warning("no knowledge index at %s (run `baton ingest`); visitors will be handed to a person",
                    settings.index_dir)
        return None
    return Bot.load(settings, embedder)


def create_app(settings: Settings | None = None, *, bot: Bot | None = None, load: bool = True,
               bus: EventBus | None = None) -> FastAPI:
    """The application. ``bot`` is used as given; otherwise it is loaded at start-up when ``load``."""
    settings = settings or get_settings()
    for name in ("uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).addFilter(REDACT_TOKENS)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        read_engine = make_engine(settings.database_url, readonly=True) if settings.is_sqlite else engine
        the_bot = bot
        if the_bot is None and load:
            the_bot = await anyio.to_thread.run_sync(load_bot, settings)
        # The answer and draft path imports litellm: seconds of Python that hold the GIL. Done here,
        # before serving, so that the first handoff does not stall every socket of the worker.
        await anyio.to_thread.run_sync(importlib.import_module, "knowledge.answers")
        # A database or socket thread that released the GIL for its I/O waits up to the switch
        # interval to get it back from a thread still computing (the retrieval beside a write):
        # 5 ms by default, longer than the write. Profiled in docs/scaling.md.
        sys.setswitchinterval(GIL_SWITCH_SECONDS)
        # What is loaded by now (the model, litellm, the index: millions of objects) lives as long as
        # the worker. Frozen out of the cycle collector, whose full passes over it stopped the event
        # loop for one to two seconds each under load (docs/scaling.md, the profile); the collector
        # still runs over everything made after this.
        gc.collect()
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)
        app.state.ctx = service_workflow.context(settings, engine, bus or await open_bus(settings),
                                                 bot=the_bot, read_engine=read_engine)
        app.state.ctx.integration = HttpIntegration.from_settings(settings)  # None unless configured
        tasks = [asyncio.create_task(service_workflow.run(app.state.ctx)),  # presence, routing, drafts, turns
                 asyncio.create_task(index_reload.run(app.state.ctx)),  # follow `baton ingest`
                 asyncio.create_task(staff.follow_handoff(app.state.ctx))]  # another worker's handoff change
        app.state.limiter = limits.Limiter(settings)  # Redis-backed when redis_url is set
        app.state.outbound = OutboundDispatcher.from_settings(app.state.ctx)  # SMS, email, Messenger replies
        tasks.append(asyncio.create_task(app.state.outbound.run()))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await app.state.ctx.worker.stop()  # bot turns cut short stay pending: resumed by a worker
            await app.state.ctx.bus.close()
            if app.state.ctx.integration is not None:
                await app.state.ctx.integration.close()
            engine.dispose()
            read_engine.dispose()

    app = FastAPI(title="Baton", version="0.1.0", lifespan=lifespan,
                  description="AI-first customer support with honest human escalation.",
                  responses=errors.responses(400, 413))  # an unreadable or oversized body, on any route
    # uploads may be as large as the largest attachment allowed; a mail's files come base64-encoded
    uploads = settings.attachment_request_bytes
    mail = max(settings.max_request_bytes, uploads * 4 // 3)
    app.add_middleware(BodyLimit, limit=settings.max_request_bytes,
                       larger=((UPLOAD_PATH, uploads), (re.compile(r"/webhooks/email"), mail)))
    app.add_middleware(CORSMiddleware, allow_origins=settings.allowed_origins, allow_methods=["*"],
                       allow_headers=["*"])

    errors.install(app)  # 422 in one shape, 429 with Retry-After, no 500 on unencodable input

    for router in (visitor.router, operator.router, admin.router, workflow.router, ws.router,
                   webhooks.router):
        app.include_router(router)
    app.include_router(account_actions.router)  # account context and actions (docs/integrations.md)
    app.include_router(reports.router)  # staffing forecast and reports (docs/staffing.md)
    app.include_router(routing_api.router)  # routing inputs: language, topics, region
    app.include_router(customer_api.router)  # one thread per customer: timeline, merges, reply route
    app.include_router(supervisor.router)  # priority and VIP at runtime, audited
    for router in (hours_api.visitor_router, hours_api.admin_router):
        app.include_router(router)  # business hours: the widget's banner, leave-a-message, the admin's edit
    for router in (attachments.visitor_router, attachments.operator_router, attachments.link_router):
        app.include_router(router)  # file uploads, downloads and signed links (docs/files.md)
    operator_ui.mount(app)  # the pages: home, visitor demo, operator console, supervisor; /widget.js

    @app.get("/health", tags=["meta"])
    async def health() -> dict[str, Any]:
        return {"ok": True, "bot": app.state.ctx.bot is not None}

    return app
