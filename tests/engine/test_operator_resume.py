"""The operator socket resumes from the last event id it saw, on the in-process bus and on Redis.

A real uvicorn server and real WebSocket clients. A second socket of the same operator stays open the
whole time as the witness: what the dropped socket must get on reconnect is exactly what the witness
received on the same streams after the dropped socket's last ids, in the same order on each stream
(ids are per stream; the replay sends one stream after another), once. A marker
event produced after the reconnect ends each wait (no sleep: the marker arrives after everything
published before it).
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from engine.settings import Settings
from tests.engine.conftest import Server, receive_json, receive_until, run_server
from tests.engine.scale.cluster import REDIS_URL

REPLAY = 20  # events each stream keeps in these servers: small, so that a gap can outgrow it


@pytest.fixture(scope="module", params=["in-process", pytest.param("redis", marks=pytest.mark.redis)])
def resume_server(request: pytest.FixtureRequest,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder: Path = tmp_path_factory.mktemp("resume")
    settings = Settings(environment="test", secret_key=secrets.token_urlsafe(32),
                        database_url=f"sqlite:///{folder / 'baton.db'}", event_replay=REPLAY,
                        index_dir=folder / "no-index")
    if request.param == "redis":
        settings = settings.model_copy(update={"redis_url": REDIS_URL,
                                               "redis_prefix": f"baton-test-{uuid.uuid4().hex[:12]}"})
    yield from run_server(settings, None)  # no bot: every visitor message queues for a person


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _socket(server: Server, token: str, resume: dict[str, int] | None = None) -> ClientConnection:
    query = f"token={token}" + (f"&resume={quote(json.dumps(resume))}" if resume is not None else "")
    return connect(f"{server.ws_url}/ws/operator?{query}", open_timeout=10)


def _ids(frames: list[dict[str, Any]], seen: dict[str, int]) -> dict[str, int]:
    """The last id per stream, from a hello's ``ids`` and then every stamped frame."""
    last = dict(seen)
    for frame in frames:
        if frame["type"] == "hello":
            last = dict(frame["ids"])
        elif frame.get("id") is not None:
            last[frame["stream"]] = frame["id"]
    return last


def _is_marker(operator_id: int) -> Any:
    return lambda frame: frame["type"] == "viewing" and frame["operator_id"] == operator_id and frame["on"]


class Desk:
    """One server's cast: operator A (the console that drops), a colleague B who makes events, and a
    visitor in a conversation A owns."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.a, self.b = server.new_operator(name="Ann"), server.new_operator(name="Bo")
        visitor = server.start_visitor()
        self.visitor_token, self.conversation_id = visitor["token"], visitor["conversation_id"]

    def post(self, path: str, token: str, body: dict[str, Any] | None = None) -> Any:
        with self.server.http() as http:
            response = http.post(path, json=body, headers=_auth(token))
        response.raise_for_status()
        return response

    def visitor_says(self, text: str) -> None:
        self.post("/api/visitor/messages", self.visitor_token, {"text": text, "client_id": uuid.uuid4().hex})

    def colleague_presence(self, status: str) -> None:
        self.post("/api/operator/presence", self.b["token"], {"status": status})

    def marker(self) -> None:
        """B opens A's conversation: a ``viewing`` event on its internal stream, after all else."""
        self.post(f"/api/operator/conversations/{self.conversation_id}/viewing", self.b["token"],
                  {"on": True})

    def claim(self) -> None:
        """A takes the conversation (routing may have given it to an earlier test's colleague online)."""
        self.post(f"/api/operator/conversations/{self.conversation_id}/takeover", self.a["token"])


def _own_a_conversation(desk: Desk, *sockets: ClientConnection) -> list[list[dict[str, Any]]]:
    """A claims the visitor's conversation, and the visitor writes once more: each socket then
    follows the conversation's streams and has an id on the public one. Each socket's frames."""
    desk.visitor_says("my parcel has not arrived")
    desk.claim()
    desk.visitor_says("it was order 1042")
    return [receive_until(socket, lambda f: f["type"] == "message.created" and "1042" in f["message"]["text"])
            for socket in sockets]


def test_a_console_that_reconnects_with_its_last_ids_gets_exactly_what_it_missed(
        resume_server: Server) -> None:
    desk = Desk(resume_server)
    witness = _socket(resume_server, desk.a["token"])
    dropped = _socket(resume_server, desk.a["token"])
    with witness:
        before = [receive_json(dropped)]
        receive_json(witness)  # its hello
        before += _own_a_conversation(desk, dropped, witness)[0]
        desk.colleague_presence("online")
        before += receive_until(dropped, lambda f: f["type"] == "presence.updated"
                                and f["status"] == "online")
        desk.marker()
        before += receive_until(dropped, _is_marker(desk.b["operator"]["id"]))
        dropped.close()
        last = _ids(before, {})
        assert {"operators", f"operator:{desk.a['operator']['id']}",
                f"conversation:{desk.conversation_id}"} <= set(last)

        # missed while away: presence on the operators stream, messages and a read on the conversation's
        desk.colleague_presence("away")
        desk.visitor_says("are you still there?")
        desk.colleague_presence("online")
        desk.visitor_says("hello?")
        with resume_server.http() as http:
            http.post(f"/api/operator/conversations/{desk.conversation_id}/reply",
                      json={"text": "Yes, looking now", "client_id": uuid.uuid4().hex},
                      headers=_auth(desk.a["token"])).raise_for_status()

        with _socket(resume_server, desk.a["token"], resume=last) as back:
            hello = receive_json(back)
            desk.marker()
            resumed = receive_until(back, _is_marker(desk.b["operator"]["id"]))
        seen = receive_until(witness, _is_marker(desk.b["operator"]["id"]))  # the first marker
        seen = receive_until(witness, _is_marker(desk.b["operator"]["id"]))  # the second one

    assert hello["type"] == "hello" and hello["ids"]["operators"] == last["operators"]
    expected = [f for f in seen if f.get("id") is not None and f["id"] > last.get(f["stream"], 0)]
    streams = {f["stream"] for f in expected + resumed}
    for stream in streams:  # exactly the missed events (and the marker), in order, once: per stream
        assert [f for f in resumed if f["stream"] == stream] == [f for f in expected if f["stream"] == stream]
    assert len(resumed) == len(expected)
    texts = [f["message"]["text"] for f in resumed if f["type"] == "message.created"]
    assert texts == ["are you still there?", "hello?", "Yes, looking now"]
    assert [f["status"] for f in resumed if f["type"] == "presence.updated"] == ["away", "online"]
    for stream in {f["stream"] for f in resumed}:
        ids = [f["id"] for f in resumed if f["stream"] == stream]
        assert ids == sorted(set(ids)) and ids[0] > last[stream]  # rising, no duplicates, none seen before
    assert not any(f["type"] == "resync" for f in resumed)


def test_a_gap_older_than_the_stream_keeps_gets_a_resync_and_then_live_events(resume_server: Server) -> None:
    desk = Desk(resume_server)
    with _socket(resume_server, desk.a["token"]) as first:
        frames = [receive_json(first)] + _own_a_conversation(desk, first)[0]
    last = _ids(frames, {})
    for n in range(REPLAY + 2):  # more operators-stream events than the stream keeps
        desk.colleague_presence("online" if n % 2 else "away")
    desk.visitor_says("still waiting")  # one event on the conversation: within what it keeps

    with _socket(resume_server, desk.a["token"], resume=last) as back:
        hello = receive_json(back)
        resync = receive_json(back)
        desk.marker()
        after = receive_until(back, _is_marker(desk.b["operator"]["id"]))

    assert resync == {"type": "resync", "streams": ["operators"], "detail": resync["detail"]}
    assert hello["ids"]["operators"] > last["operators"] + REPLAY  # followed from the latest
    assert not [f for f in after if f["stream"] == "operators" and f["id"] <= hello["ids"]["operators"]]
    assert [f["message"]["text"] for f in after if f["type"] == "message.created"] == ["still waiting"]


def test_an_id_the_stream_never_gave_is_a_resync_too(resume_server: Server) -> None:
    """An id from before a restart (ids start above every old one) or made up: the server cannot say
    what came after it."""
    operator = resume_server.new_operator()
    stream = f"operator:{operator['operator']['id']}"
    with _socket(resume_server, operator["token"], resume={"operators": 1, stream: 2**53 - 1}) as socket:
        hello, resync = receive_json(socket), receive_json(socket)
    assert resync["type"] == "resync" and sorted(resync["streams"]) == sorted(["operators", stream])
    assert hello["ids"]["operators"] > 1


@pytest.mark.parametrize("resume", ['{"operator:999999": 5}', '{"visitors": 5}', '[1, 2]',
                                    '{"operators": -1}', '{"operators": "x"}'])
def test_a_resume_the_socket_cannot_follow_is_refused_by_name(resume_server: Server, resume: str) -> None:
    operator = resume_server.new_operator()
    url = f"{resume_server.ws_url}/ws/operator?token={operator['token']}&resume={quote(resume)}"
    with connect(url, open_timeout=10) as socket, pytest.raises(ConnectionClosed) as closed:
        socket.recv(timeout=5)
    assert closed.value.rcvd.code == 1008 and "resume" in closed.value.rcvd.reason
