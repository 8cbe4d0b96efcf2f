"""Every WebSocket frame as a typed model: one pydantic model per frame type, on both sockets.

What a client sends is parsed once, into one of a discriminated union (``type`` is the tag), so a
handler matches on a model rather than a dict; an unknown ``type`` is named in the error. What the
server sends is built from these models too: operator-socket events are the bus events of
``engine.events``, already typed, each with the fields of :class:`Stamp` added (:func:`stamped`).
docs/architecture.md lists them.
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from engine.events import Event, QueueInfo
from engine.models import MessagePublic
from engine.validation import CleanInput, Id, MessageText


class _In(CleanInput):
    model_config = ConfigDict(extra="forbid")


# --- client to server ---------------------------------------------------------------------------

class VisitorMessage(_In):
    """Text, files uploaded before (``attachment_ids``, from ``POST /api/visitor/attachments``), or both."""

    type: Literal["message"]
    attachment_ids: list[Id] = Field(default=[], max_length=50)
    text: MessageText
    client_id: str = Field(min_length=1, max_length=64)


class VisitorTyping(_In):
    type: Literal["typing"]
    on: bool
    conversation_id: Id | None = None  # accepted and ignored: the token names the conversation


class VisitorRead(_In):
    type: Literal["read"]
    seq: Id
    conversation_id: Id | None = None


class Subscribe(_In):
    """Replay a conversation (notes included) from ``after`` and follow it."""

    type: Literal["subscribe"]
    conversation_id: Id
    after: Id = 0


class Unsubscribe(_In):
    """Stop following a conversation (the console closed it, or it left the lists shown), so a
    long-lived console's socket does not follow every conversation it ever listed. The operator's own
    conversations are always followed: an ``unsubscribe`` of one changes nothing."""

    type: Literal["unsubscribe"]
    conversation_id: Id


class OperatorTyping(_In):
    type: Literal["typing"]
    on: bool
    conversation_id: Id


class OperatorRead(_In):
    type: Literal["read"]
    seq: Id
    conversation_id: Id


VisitorFrame = Annotated[VisitorMessage | VisitorTyping | VisitorRead, Field(discriminator="type")]
OperatorFrame = Annotated[Subscribe | Unsubscribe | OperatorTyping | OperatorRead,
                          Field(discriminator="type")]
VISITOR_FRAMES: TypeAdapter[VisitorFrame] = TypeAdapter(VisitorFrame)
OPERATOR_FRAMES: TypeAdapter[OperatorFrame] = TypeAdapter(OperatorFrame)


class UnknownFrame(ValueError):
    """A frame whose ``type`` this socket does not take."""


def parse(adapter: TypeAdapter[Any], data: dict[str, Any]) -> Any:
    """The frame ``data`` is, as its model. Raises :class:`UnknownFrame` naming the types this socket
    takes, or pydantic's ``ValidationError`` for a known type with bad fields."""
    try:
        return adapter.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        if first["type"] == "union_tag_invalid":
            expected = first["ctx"]["expected_tags"].replace("'", "")
            raise UnknownFrame(f"unknown message type {data.get('type')!r}; expected {expected}") from None
        raise


def detail(exc: ValidationError) -> str:
    """The first problem of a frame, named by its field (without the union's tag)."""
    first = exc.errors()[0]
    loc = [str(part) for part in first["loc"]]
    where = ".".join(loc[1:] if len(loc) > 1 else loc)
    return f"{where}: {first['msg']}" if where else first["msg"]


# --- server to client ---------------------------------------------------------------------------

class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MessageFrame(_Out):
    type: Literal["message"] = "message"
    message: MessagePublic


class StateFrame(_Out):
    type: Literal["state"] = "state"
    state: str
    seq: int
    queue: QueueInfo | None = None


class TypingFrame(_Out):
    type: Literal["typing"] = "typing"
    role: Literal["operator"] = "operator"
    on: bool


class ReadFrame(_Out):
    type: Literal["read"] = "read"
    seq: int


class AckFrame(_Out):
    """The visitor's message is stored (``duplicate``: it was before, with this seq)."""

    type: Literal["ack"] = "ack"
    client_id: str
    seq: int
    duplicate: bool = False


class ErrorFrame(_Out):
    type: Literal["error"] = "error"
    detail: str
    client_id: str | None = None


class HelloFrame(_Out):
    """The operator socket's first frame: the conversations it follows live, with the seq each is
    followed from, and the bus streams it follows with the event id each is followed from (the
    id the console resumed from, or the stream's latest)."""

    type: Literal["hello"] = "hello"
    operator_id: int
    watching: list[int]
    seqs: dict[int, int] = {}
    ids: dict[str, int] = {}


class ResyncFrame(_Out):
    """Sent after ``hello`` for each resumed stream whose gap is older than the bus keeps (or whose id
    it does not know, after a restart): events were missed for good, so the console reloads what it
    shows of them over REST (and ``subscribe``s again by seq); the stream goes on from ``hello``'s id."""

    type: Literal["resync"] = "resync"
    streams: list[str]
    detail: str


class Stamp(_Out):
    """What every bus event relayed on the operator socket carries beside its own fields: the stream it
    came by and its id there (monotonic per stream; the console sends the last of each back on
    reconnect, ``?resume=``). A message replayed from the store rather than the bus has no ``id``."""

    stream: str
    id: int | None = None


class Bodies:
    """The JSON of the last ``size`` events, by identity: a bus event goes to every socket that follows
    its stream as the same object (the in-process bus fans one out; ``RedisBus`` parses each message
    once per worker), so an event on ``operators`` is serialised once, not once per console. The
    event is kept with its JSON, so its ``id()`` cannot be reused while it is cached."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._kept: OrderedDict[int, tuple[BaseModel, str]] = OrderedDict()

    def of(self, event: BaseModel) -> str:
        found = self._kept.get(id(event))
        if found is not None and found[0] is event:
            return found[1]
        body = event.model_dump_json()
        self._kept[id(event)] = (event, body)
        if len(self._kept) > self.size:
            self._kept.popitem(last=False)
        return body


BODIES = Bodies()  # a cache of pure results: sharing it between the apps of one process changes nothing


def stamped(event: Event | BaseModel, stream: str, id: int | None) -> str:
    """The event's JSON with its :class:`Stamp` fields, spliced in rather than re-validated: the
    operator socket sends one per event, on the delivery path."""
    extra = f',"stream":{json.dumps(stream)}' + (f',"id":{id}' if id is not None else "")
    return BODIES.of(event)[:-1] + extra + "}"


# --- the operator socket's resume ---------------------------------------------------------------

MAX_RESUME_STREAMS = 200
JS_SAFE_INT = 2**53 - 1
_RESUMABLE = re.compile(r"operators|operator:(\d{1,10})|conversation:(\d{1,10})(:internal)?")
_RESUME: TypeAdapter[dict[str, Annotated[int, Field(ge=0, le=JS_SAFE_INT)]]] = TypeAdapter(
    dict[str, Annotated[int, Field(ge=0, le=JS_SAFE_INT)]])


def parse_resume(raw: str, operator_id: int) -> dict[str, int]:
    """``?resume=`` of the operator socket: a JSON object of stream -> the last event id the console
    saw on it. Raises ``ValueError`` naming what is wrong (the socket closes with 1008): not such an
    object, over ``MAX_RESUME_STREAMS`` streams, or a stream this operator cannot follow (another
    operator's own stream, a name that is no stream)."""
    if not raw:
        return {}
    try:
        found = _RESUME.validate_json(raw)
    except ValidationError as exc:
        problem = f"resume must be a JSON object of stream name to event id: {detail(exc)}"
        raise ValueError(problem[:120]) from None
    if len(found) > MAX_RESUME_STREAMS:
        raise ValueError(f"resume names at most {MAX_RESUME_STREAMS} streams")
    for stream in found:
        match = _RESUMABLE.fullmatch(stream)
        if match is None or (match.group(1) is not None and int(match.group(1)) != operator_id):
            raise ValueError(f"resume: {stream[:40]!r} is not a stream this socket follows")
    return found
