"""The visitor and operator WebSockets.

Both subscribe to the bus *before* replaying from the store, then drop any live event whose seq the
replay already covered: nothing is lost between the two and nothing is sent twice. A visitor's
message is acknowledged only once it is stored; the bot's turn runs after the ack. A subscriber
that falls too far behind is closed with code 4000 ("resync"): the client reconnects with its last
seq and gets what it missed from the store.

What a client sends is checked like a request body (docs/security.md): a frame that is not JSON,
not an object with a string ``type``, or fails its model gets an ``error`` frame naming what is
wrong and the socket stays open; a binary frame is closed with 1003, a frame over
``max_request_bytes`` with 1009, a client over its rate limit with 4429 (the reason says when to
come back). On the operator socket one lock orders the ``subscribe`` replay and the live relay, so
a socket sends each message once and never a lower seq after a higher one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ValidationError
from sqlmodel import Session, col, select

from engine.api import frames, limits
from engine.api.deps import operator_for, visitor_conversation_for
from engine.api.frames import (
    OPERATOR_FRAMES,
    VISITOR_FRAMES,
    AckFrame,
    ErrorFrame,
    HelloFrame,
    MessageFrame,
    OperatorRead,
    OperatorTyping,
    ReadFrame,
    ResyncFrame,
    StateFrame,
    Subscribe,
    TypingFrame,
    UnknownFrame,
    Unsubscribe,
    VisitorMessage,
    VisitorRead,
    VisitorTyping,
)
from engine.bus import OPERATORS, Subscription, conversation_stream, operator_stream
from engine.events import ConversationChanged, Event, MessageCreated, Read, Typing
from engine.models import Conversation, MessagePublic, Role, State
from engine.service import conversations, presence, queries, queue, workflow
from engine.service.errors import ServiceError
from engine.service.runtime import ServiceContext
from engine.settings import Settings
from engine.validation import INT_MAX

log = logging.getLogger(__name__)
router = APIRouter()
UNAUTHORISED = 4401
RESYNC = 4000
UNSUPPORTED_DATA = 1003  # RFC 6455: a binary frame where only text is taken
TOO_BIG = 1009  # RFC 6455: a frame over the size limit
INVALID = 1008  # RFC 6455 "policy violation": the connection's own parameters are wrong


def _ctx(websocket: WebSocket) -> ServiceContext:
    return websocket.app.state.ctx


class Closed(Exception):
    """The server closed the socket (and told the client why): stop serving it."""


async def _receive(websocket: WebSocket) -> dict[str, Any] | None:
    """The next JSON object from the client; None (after telling it why) for anything else.
    Raises WebSocketDisconnect when the client left, Closed after closing a binary or oversized frame."""
    frame = await websocket.receive()
    if frame["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(frame.get("code", 1000), frame.get("reason"))
    raw = frame.get("text")
    if raw is None:
        await websocket.close(code=UNSUPPORTED_DATA, reason="binary frames are not accepted: send JSON text")
        raise Closed
    limit = _ctx(websocket).settings.max_request_bytes
    if len(raw) > limit:  # characters: at least as many bytes, so never more than the limit lets by
        await websocket.close(code=TOO_BIG, reason=f"a frame may carry at most {limit} bytes")
        raise Closed
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        await _error(websocket, f"not JSON: {exc.msg}")
        return None
    except (ValueError, RecursionError) as exc:  # a number of over 4300 digits, nesting past the stack
        await _error(websocket, f"not usable JSON: {exc}"[:300])
        return None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        await _error(websocket, "expected an object with a string 'type'")
        return None
    return data


async def _send(websocket: WebSocket, frame: BaseModel) -> None:
    await websocket.send_text(frame.model_dump_json())


async def _error(websocket: WebSocket, detail: str, client_id: Any = None) -> None:
    """An error frame; ``client_id`` is echoed when the bad frame carried a string one."""
    echoed = client_id if isinstance(client_id, str) else None
    await _send(websocket, ErrorFrame(detail=detail, client_id=echoed))


async def _pump(websocket: WebSocket, subscription: Subscription, forward: Any) -> None:
    """Relay bus events through ``forward`` until the socket or the subscription ends."""
    try:
        while True:
            await forward(*await subscription.receive())
    except ConnectionResetError:
        if subscription.overflowed:
            await websocket.close(code=RESYNC, reason="resync: reconnect with your last seq")


async def _refuse_rate(websocket: WebSocket, exc: limits.RateLimited) -> None:
    await websocket.close(code=limits.CLOSE_CODE, reason=f"rate limited: retry in {exc.retry_after} s")


async def _serve(websocket: WebSocket, subscription: Subscription, reader: Any, forward: Any) -> None:
    """Run the client reader and the bus pump together; whichever ends first ends both. A client
    leaving, or being closed for what it sent, is the normal end of a socket, not an error."""
    pump = asyncio.create_task(_pump(websocket, subscription, forward))
    try:
        await reader()
    except (WebSocketDisconnect, Closed):
        pass
    except limits.RateLimited as exc:
        await _refuse_rate(websocket, exc)
    finally:
        pump.cancel()
        subscription.close()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await pump


async def in_order(ctx: ServiceContext, fetch: Any, conversation_id: int, last: int,
                   event: MessageCreated) -> list[MessagePublic]:
    """The messages to send for ``event`` so that a socket sees seqs in order: the event alone when
    it follows ``last``, else everything after ``last`` up to it from the store. (Two actions can
    publish in the other order than they committed; a seq is only taken under the row lock, so an
    earlier seq is always committed by the time a later one is published.)"""
    if event.seq == last + 1:
        return [event.message]
    return [m for m in await ctx.read(fetch, conversation_id, last) if m.seq <= event.seq]


# --- visitor ------------------------------------------------------------------------------------

def _visitor_state(session: Session, settings: Settings, conversation_id: int) -> StateFrame:
    conversation = session.get(Conversation, conversation_id)
    return StateFrame(state=conversation.state, seq=conversation.last_seq,
                      queue=queue.queue_info(session, settings, conversation))


@router.websocket("/ws/visitor")
async def visitor_socket(websocket: WebSocket, token: str = "", after: int = 0) -> None:
    ctx = _ctx(websocket)
    conversation = await visitor_conversation_for(ctx, token)
    await websocket.accept()  # then close with a code the client can read, rather than a bare 403
    limiter = limits.of(websocket.app)
    try:
        await limiter.hit("address", limits.client_address(websocket))
    except limits.RateLimited as exc:
        await _refuse_rate(websocket, exc)
        return
    if conversation is None:
        await websocket.close(code=UNAUTHORISED, reason="a valid conversation token is required")
        return
    if not 0 <= after <= INT_MAX:
        await websocket.close(code=INVALID, reason=f"after must be a seq from 0 to {INT_MAX}")
        return
    conversation_id = conversation.id
    subscription = ctx.bus.subscribe(conversation_stream(conversation_id))
    sent = after
    # on the page from here (before the first state frame): a person's reply then stays in the chat
    await presence.visitor_connected(ctx, conversation_id)
    try:
        for message in await ctx.read(queries.visitor_messages, conversation_id, sent):
            await _send(websocket, MessageFrame(message=message))
            sent = message.seq
        await _send(websocket, await ctx.read(_visitor_state, ctx.settings, conversation_id))
    except WebSocketDisconnect:  # the client left during the replay
        subscription.close()
        await presence.visitor_disconnected(ctx, conversation_id)
        return

    async def forward(_stream: str, _id: int, event: Event) -> None:
        nonlocal sent
        if isinstance(event, MessageCreated):
            if event.seq <= sent or event.message.visibility != "public":
                return
            for message in await in_order(ctx, queries.visitor_messages, conversation_id, sent, event):
                sent = message.seq
                await _send(websocket, MessageFrame(message=message))
        elif isinstance(event, ConversationChanged):
            await _send(websocket, StateFrame(state=event.state, seq=event.seq, queue=event.queue))
        elif isinstance(event, Typing) and event.role == "operator":
            await _send(websocket, TypingFrame(on=event.on))
        elif isinstance(event, Read) and event.role == "operator":
            await _send(websocket, ReadFrame(seq=event.seq))

    async def reader() -> None:
        while True:
            data = await _receive(websocket)
            await limiter.hit("visitor", str(conversation_id))  # every frame, unusable ones included
            if data is None:
                continue
            try:
                await handle(frames.parse(VISITOR_FRAMES, data))
            except ValidationError as exc:
                await _error(websocket, frames.detail(exc), client_id=data.get("client_id"))
            except (ServiceError, UnknownFrame) as exc:
                await _error(websocket, str(getattr(exc, "message", exc)), client_id=data.get("client_id"))

    async def handle(frame: VisitorMessage | VisitorTyping | VisitorRead) -> None:
        match frame:
            case VisitorMessage():
                await limiter.hit("messages", str(conversation_id))
                accepted = await workflow.take(ctx, conversation_id, frame.text, frame.client_id,
                                               frame.attachment_ids)
                await _send(websocket, AckFrame(client_id=frame.client_id, seq=accepted.message.seq,
                                                duplicate=accepted.duplicate))
                workflow.answer_later(ctx, accepted)  # after the ack; durable: resumed if this worker dies
            case VisitorTyping():
                await ctx.bus.publish(conversation_stream(conversation_id),
                                      Typing(conversation_id=conversation_id, role="visitor", on=frame.on))
            case VisitorRead():
                await conversations.mark_read(ctx, conversation_id, Role.visitor, frame.seq)

    try:
        await _serve(websocket, subscription, reader, forward)
    finally:
        try:
            await presence.visitor_disconnected(ctx, conversation_id)
        except Exception:  # shutting down: the row's seen_at goes stale and counts as gone after the grace
            log.warning("could not record that the visitor of conversation %s left", conversation_id,
                        exc_info=True)


# --- operator -----------------------------------------------------------------------------------

def _followed(session: Session, operator_id: int, resumed: list[int]) -> tuple[dict[int, int], set[int]]:
    """Conversation id -> last seq of those the socket follows from the start: the operator's own
    (assigned), and those the console resumes (that exist); and which are the operator's own."""
    owned = select(Conversation.id, Conversation.last_seq).where(
        Conversation.assignee_id == operator_id, Conversation.state == State.assigned)
    found = {conversation_id: last_seq for conversation_id, last_seq in session.exec(owned).all()}
    own = set(found)
    if resumed:
        named = select(Conversation.id, Conversation.last_seq).where(col(Conversation.id).in_(resumed))
        found.update(session.exec(named).all())
    return found, own


def _conversation_of(stream: str) -> int | None:
    """The conversation a ``conversation:<id>[:internal]`` stream belongs to."""
    if not stream.startswith("conversation:"):
        return None
    return int(stream.split(":")[1])


@router.websocket("/ws/operator")
async def operator_socket(websocket: WebSocket, token: str = "", resume: str = "") -> None:
    """``resume``: a JSON object of stream -> the last event id the console saw there (``Stamp``);
    what the bus still holds after each is sent after ``hello``, the rest is named in a ``resync``."""
    ctx = _ctx(websocket)
    operator = await operator_for(ctx, token)
    await websocket.accept()
    try:
        await limits.of(websocket.app).hit("address", limits.client_address(websocket))
    except limits.RateLimited as exc:
        await _refuse_rate(websocket, exc)
        return
    if operator is None:
        await websocket.close(code=UNAUTHORISED, reason="a valid operator token is required")
        return
    operator_id = operator.id
    try:
        resumed = frames.parse_resume(resume, operator_id)
    except ValueError as exc:
        await websocket.close(code=INVALID, reason=str(exc)[:120])
        return
    subscription = ctx.bus.subscribe(OPERATORS, operator_stream(operator_id))
    watched: dict[int, int] = {}  # conversation id -> last message seq sent (or to start after)
    own: set[int] = set()  # the operator's own conversations: followed whatever the console asks
    started: set[int] = set()  # conversations this socket has sent a message of
    last_ids: dict[str, int] = {}  # stream -> id of the last bus event relayed, or followed from
    sending = asyncio.Lock()  # the replay and the live relay take turns, so seqs only go up

    def watch(conversation_id: int, after: int) -> None:
        watched.setdefault(conversation_id, after)
        subscription.add(conversation_stream(conversation_id))
        subscription.add(conversation_stream(conversation_id, internal=True))

    async def send_new(conversation_id: int, messages: list[MessagePublic],
                       stamp: tuple[str, int, MessageCreated] | None = None) -> None:
        """Send the messages past the conversation's mark, in order (call holding ``sending``);
        ``stamp`` (stream, id, event): the bus event the message of its seq came as, sent as it is
        (serialised once for every socket that relays it, ``frames.BODIES``)."""
        for message in messages:
            if message.seq <= watched[conversation_id]:
                continue
            watched[conversation_id] = message.seq
            started.add(conversation_id)
            if stamp is not None and stamp[2].seq == message.seq:
                stream, event_id, relayed = stamp
            else:
                stream = conversation_stream(conversation_id, internal=message.visibility == "internal")
                event_id = None
                relayed = MessageCreated(conversation_id=conversation_id, seq=message.seq, message=message)
            await websocket.send_text(frames.stamped(relayed, stream, event_id))

    async def unwatch(conversation_id: int) -> None:
        if conversation_id in own:  # always followed (a console may ask before its lists show it)
            return
        async with sending:  # not while a replay of it is being sent
            watched.pop(conversation_id, None)
            started.discard(conversation_id)
            subscription.remove(conversation_stream(conversation_id))
            subscription.remove(conversation_stream(conversation_id, internal=True))

    async def replay(conversation_id: int, after: int) -> None:
        """Everything after ``after`` this socket has not sent yet, then live events from there on.
        (What it did send, the client has: a lower ``after`` gets it from REST, not twice here.)"""
        async with sending:
            watch(conversation_id, after)
            if conversation_id not in started:
                watched[conversation_id] = after
            found = await ctx.read(queries.operator_messages, conversation_id, watched[conversation_id])
            await send_new(conversation_id, found)

    async def forward(stream: str, event_id: int, event: Event) -> None:
        if event_id <= last_ids.get(stream, 0):
            return  # replayed on resume already, or from before the stream was followed from
        last_ids[stream] = event_id
        if isinstance(event, ConversationChanged):
            if stream != OPERATORS:
                return  # the same change also comes by the operators stream
            if event.assignee_id == operator_id and event.conversation_id not in watched:
                watch(event.conversation_id, event.seq)
            if event.assignee_id == operator_id and event.state == State.assigned:
                own.add(event.conversation_id)
            else:  # passed on or resolved: the console may stop following it now
                own.discard(event.conversation_id)
        if isinstance(event, MessageCreated):
            async with sending:
                last = watched.get(event.conversation_id, 0)
                if event.seq > last:
                    watched.setdefault(event.conversation_id, last)
                    await send_new(event.conversation_id, await in_order(
                        ctx, queries.operator_messages, event.conversation_id, last, event),
                        (stream, event_id, event))
            return
        if isinstance(event, Typing) and event.operator_id == operator_id:
            return
        await websocket.send_text(frames.stamped(event, stream, event_id))

    async def start() -> None:
        """Follow the operator's streams and conversations, send ``hello``, then what each resumed
        stream missed (or a ``resync`` naming those whose gap the bus no longer holds)."""
        resumed_ids = {c for c in map(_conversation_of, resumed) if c is not None}
        followed, owned = await ctx.read(_followed, operator_id, sorted(resumed_ids))
        own.update(owned)
        for conversation_id, last_seq in followed.items():
            watch(conversation_id, last_seq)
        streams = [OPERATORS, operator_stream(operator_id)] + [
            conversation_stream(c, internal=internal) for c in watched for internal in (False, True)]
        try:
            backlogs = await ctx.bus.backlogs({stream: resumed.get(stream) for stream in streams})
        except ConnectionError:
            await websocket.close(code=RESYNC, reason="resync: the event bus is unavailable, reconnect")
            raise Closed from None
        missed = {stream: found.events for stream, found in backlogs.items()
                  if stream in resumed and found.complete}
        for stream, events in missed.items():  # a resumed conversation's missed messages follow hello
            conversation_id = _conversation_of(stream)
            seqs = [event.seq for _, event in events if isinstance(event, MessageCreated)]
            if conversation_id is not None and seqs:
                watched[conversation_id] = min(watched[conversation_id], min(seqs) - 1)
        last_ids.update({stream: resumed[stream] if stream in missed else found.head
                         for stream, found in backlogs.items()})
        await _send(websocket, HelloFrame(operator_id=operator_id, watching=sorted(watched),
                                          seqs=dict(sorted(watched.items())), ids=dict(last_ids)))
        stale = [stream for stream in resumed if stream in backlogs and stream not in missed]
        if stale:
            await _send(websocket, ResyncFrame(streams=stale, detail=(
                "events missed on these streams are older than the server keeps: reload them")))
        for stream, events in missed.items():
            for event_id, event in events:
                await forward(stream, event_id, event)

    async def reader() -> None:
        while True:
            data = await _receive(websocket)
            if data is None:
                continue
            try:
                await handle(frames.parse(OPERATOR_FRAMES, data))
            except ValidationError as exc:
                await _error(websocket, frames.detail(exc))
            except (ServiceError, UnknownFrame) as exc:
                await _error(websocket, str(getattr(exc, "message", exc)))

    async def handle(frame: Subscribe | Unsubscribe | OperatorTyping | OperatorRead) -> None:
        match frame:
            case Subscribe():
                await replay(frame.conversation_id, frame.after)
            case Unsubscribe():
                await unwatch(frame.conversation_id)
            case OperatorTyping():
                await ctx.bus.publish(conversation_stream(frame.conversation_id),
                                      Typing(conversation_id=frame.conversation_id, role="operator",
                                             on=frame.on, operator_id=operator_id))
            case OperatorRead():
                await conversations.mark_read(ctx, frame.conversation_id, Role.operator, frame.seq)

    presence.connected(ctx, operator_id)
    try:
        await start()
        await _serve(websocket, subscription, reader, forward)
    except (WebSocketDisconnect, Closed):  # the client left before the hello, or the bus is away
        subscription.close()
    finally:
        presence.disconnected(ctx, operator_id)
