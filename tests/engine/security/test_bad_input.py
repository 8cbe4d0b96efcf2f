"""Input an attacker would send gets a 4xx (or a socket close code) that names what is wrong, on
SQLite and PostgreSQL, and nothing already stored is lost: NUL characters, lone surrogates,
integers past what a column holds (PostgreSQL's INTEGER, and far past 64 bits), binary and
oversized frames, chunked bodies over the limit, a client that leaves mid-body."""

from __future__ import annotations

import asyncio
import json
import logging
import socket as sock
import struct
import time
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from engine.app import BodyLimit
from tests.engine.conftest import Server, receive_json, receive_until
from tests.engine.security.conftest import bearer

BIG = 2**64  # past any column on either backend (PostgreSQL's INTEGER ends at 2**31 - 1)
EDGE = 2**31  # one past PostgreSQL's INTEGER
HUGE = 10**40


def refused_naming(response: Any, field: str, words: str) -> None:
    assert response.status_code == 422, response.text
    errors = response.json()["detail"]
    assert any(error["loc"][-1] == field and words in error["msg"] for error in errors), errors


@pytest.fixture
def desk(server: Server) -> dict[str, Any]:
    """A visitor's conversation claimed by an operator, and an admin."""
    operator, admin = server.new_operator(), server.new_operator(role="admin")
    conversation = server.start_visitor()
    with server.http() as http:
        http.post(f"/api/operator/conversations/{conversation['conversation_id']}/claim",
                  headers=bearer(operator["token"])).raise_for_status()
    return {"operator": operator["token"], "admin": admin["token"], "visitor": conversation["token"],
            "id": conversation["conversation_id"]}


def text_fields(desk: dict[str, Any]) -> list[tuple[str, str, str | None, dict[str, Any], str]]:
    """(method, path, token, body, field): every text field a client can send over REST."""
    path = f"/api/operator/conversations/{desk['id']}"
    op, admin, visitor = desk["operator"], desk["admin"], desk["visitor"]
    return [
        ("POST", "/api/visitor/conversations", None, {"name": "Ann\x00"}, "name"),
        ("POST", "/api/visitor/conversations", None, {"email": "ann\x00@example.com"}, "email"),
        ("POST", "/api/visitor/messages", visitor, {"text": "hello\x00"}, "text"),
        ("POST", "/api/visitor/messages", visitor, {"text": "hello", "client_id": "a\x00"}, "client_id"),
        ("POST", "/api/visitor/csat", visitor, {"score": 5, "comment": "great\x00"}, "comment"),
        ("POST", "/api/operator/login", None, {"email": "x\x00@example.com", "password": "p"}, "email"),
        ("POST", "/api/operator/login", None, {"email": "x@example.com", "password": "p\x00"}, "password"),
        ("POST", f"{path}/reply", op, {"text": "hi\x00"}, "text"),
        ("POST", f"{path}/note", op, {"text": "note\x00"}, "text"),
        ("POST", f"{path}/tags", op, {"add": ["vip\x00"]}, "add"),
        ("POST", f"{path}/transfer", op, {"team_id": 1, "note": "why\x00"}, "note"),
        ("POST", "/api/admin/operators", admin,
         {"email": "new@example.com", "name": "N\x00", "password": "long-enough"}, "name"),
        ("POST", "/api/admin/teams", admin, {"name": "T\x00"}, "name"),
        ("POST", "/api/admin/canned", admin, {"shortcut": "s", "title": "t", "text": "x\x00"}, "text"),
    ]


def test_nul_in_any_text_field_is_a_422_naming_it(server: Server, desk: dict[str, Any]) -> None:
    with server.http() as http:
        for method, path, token, body, field in text_fields(desk):
            headers = bearer(token) if token else {}
            refused_naming(http.request(method, path, json=body, headers=headers), field, "NUL")
        for query in ("/api/operator/canned?q=a%00b", "/api/metrics?start=2026%00"):
            answer = http.get(query, headers=bearer(desk["operator"]))
            assert answer.status_code == 422 and "NUL" in answer.json()["detail"][0]["msg"], answer.text
        history = http.get("/api/visitor/messages", headers=bearer(desk["visitor"])).json()["messages"]
    assert all("\x00" not in m["text"] for m in history)


def test_lone_surrogates_are_a_422_not_a_failing_error_handler(server: Server, desk: dict[str, Any]) -> None:
    raw = {"Content-Type": "application/json"}
    with server.http() as http:
        for path, body, token in (("/api/visitor/conversations", '{"name": "\\ud800"}', None),
                                  ("/api/operator/login", '{"email": "\\udfff@x.io", "password": "p"}', None),
                                  ("/api/visitor/messages", '{"text": "a\\ud83d"}', desk["visitor"])):
            headers = {**raw, **(bearer(token) if token else {})}
            answer = http.post(path, content=body.encode(), headers=headers)
            assert answer.status_code == 422, answer.text
            assert answer.content.decode("utf-8")  # the body itself is valid UTF-8 JSON
            assert answer.json()["detail"][0]["loc"][-1] in {"name", "email", "text"}


def test_integers_beyond_64_bits_are_a_422(server: Server, desk: dict[str, Any]) -> None:
    op, admin = bearer(desk["operator"]), bearer(desk["admin"])
    base = f"/api/operator/conversations/{desk['id']}"
    with server.http() as http:
        for number in (EDGE, BIG):
            big = f"/api/operator/conversations/{number}"
            for path in (big, f"{big}/messages", f"{big}/context", f"{big}/drafts", f"{base}/canned/{number}",
                         f"{base}/messages?after={number}"):
                answer = http.get(path, headers=op)
                assert answer.status_code == 422 and "less than or equal to" in answer.text, path
            for action in ("claim", "takeover", "handback", "resolve", "reopen"):
                assert http.post(f"{big}/{action}", headers=op).status_code == 422
        refused_naming(http.post(f"{base}/reply", json={"text": "hi", "draft_id": BIG}, headers=op),
                       "draft_id", "less than or equal to")
        refused_naming(http.post(f"{base}/transfer", json={"operator_id": HUGE}, headers=op),
                       "operator_id", "less than or equal to")
        team = http.post("/api/admin/teams", json={"name": "T", "backup_team_id": BIG}, headers=admin)
        refused_naming(team, "backup_team_id", "too large for the database")
        refused_naming(http.get(f"/api/visitor/messages?after={EDGE}", headers=bearer(desk["visitor"])),
                       "after", "less than or equal to")
        team = http.post("/api/admin/teams", json={"name": "T", "overflow_after_seconds": EDGE},
                         headers=admin)
        refused_naming(team, "overflow_after_seconds", "too large for the database")
        forged = http.get("/api/operator/me", headers=bearer(f"{BIG}.9999999999.forged"))
        assert forged.status_code == 401


def test_visitor_socket_refuses_bad_frames_and_loses_nothing(server: Server) -> None:
    conversation = server.start_visitor()
    token = conversation["token"]
    with server.visitor_socket(token) as socket:
        receive_json(socket)
        socket.send(json.dumps({"type": "message", "text": "kept", "client_id": "kept-1"}))
        ack = receive_until(socket, lambda f: f["type"] == "ack")[-1]
        socket.send('{"type": "read", "seq": ' + str(BIG) + "}")
        assert "less than or equal to" in receive_until(socket, lambda f: f["type"] == "error")[-1]["detail"]
        socket.send('{"type": "read", "seq": ' + "9" * 5000 + "}")
        assert "not usable JSON" in receive_until(socket, lambda f: f["type"] == "error")[-1]["detail"]
        socket.send('{"type": "message", "text": "a\\ud800", "client_id": "s-1"}')
        surrogate = receive_until(socket, lambda f: f["type"] == "error")[-1]
        assert surrogate["client_id"] == "s-1" and surrogate["detail"].startswith("text")
        socket.send(json.dumps({"type": "message", "text": "nul\x00", "client_id": "n-1"}))
        assert "NUL" in receive_until(socket, lambda f: f["type"] == "error")[-1]["detail"]
        socket.send(b"\x00\x01binary")
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                socket.recv(timeout=10)
    assert closed.value.rcvd.code == 1003 and "binary" in closed.value.rcvd.reason

    with server.visitor_socket(token, after=0) as socket:  # reconnect: what was stored is all there
        replayed = receive_until(socket, lambda f: f["type"] == "state")
        assert [f["message"]["client_id"] for f in replayed if f["type"] == "message"][0] == "kept-1"
        assert ack["seq"] == replayed[0]["message"]["seq"]
        socket.send("x" * (server.settings.max_request_bytes + 1))
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                socket.recv(timeout=10)
    limit = str(server.settings.max_request_bytes)
    assert closed.value.rcvd.code == 1009 and limit in closed.value.rcvd.reason

    with pytest.raises(ConnectionClosed) as closed, server.visitor_socket(token, after=BIG) as socket:
        socket.recv(timeout=10)
    assert closed.value.rcvd.code == 1008 and "after" in closed.value.rcvd.reason


def test_operator_socket_refuses_big_ids_and_binary_frames(server: Server) -> None:
    operator = server.new_operator()
    with server.operator_socket(operator["token"]) as socket:
        assert receive_json(socket)["type"] == "hello"
        socket.send(json.dumps({"type": "subscribe", "conversation_id": BIG}))
        assert "conversation_id" in receive_json(socket)["detail"]
        socket.send(json.dumps({"type": "read", "conversation_id": 1, "seq": HUGE}))
        assert "seq" in receive_json(socket)["detail"]
        socket.send(b"\xff")
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=10)
    assert closed.value.rcvd.code == 1003


def test_chunked_body_over_the_limit_is_a_413(server: Server) -> None:
    limit = server.settings.max_request_bytes

    def chunks():  # no Content-Length: the body arrives chunked
        yield b'{"text": "'
        for _ in range(limit // 1000 + 2):
            yield b"x" * 1000
        yield b'"}'

    conversation = server.start_visitor()
    with server.http() as http:
        answer = http.post("/api/visitor/messages", content=chunks(),
                           headers={**bearer(conversation["token"]), "Content-Type": "application/json"})
    assert answer.status_code == 413 and f"the limit is {limit} bytes" in answer.json()["detail"]


def test_a_client_leaving_mid_body_ends_the_request_quietly() -> None:
    """At the ASGI boundary: a disconnect before the body is complete neither reaches the route
    (which would fail reading it) nor raises."""
    called: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        called.append("app")

    messages = [{"type": "http.request", "body": b'{"te', "more_body": True}, {"type": "http.disconnect"}]

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        called.append(message["type"])

    scope = {"type": "http", "method": "POST", "path": "/api/visitor/messages", "headers": []}
    asyncio.run(BodyLimit(app, limit=1024)(scope, receive, send))
    assert called == [] and messages == []



class _Errors(logging.Handler):
    """Every ERROR record the server logs while installed."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _abort(socket: Any) -> None:
    """Drop the TCP connection with a reset: no close frame, no FIN, as a crashed client would."""
    raw = socket.socket
    raw.setsockopt(sock.SOL_SOCKET, sock.SO_LINGER, struct.pack("ii", 1, 0))
    raw.close()


def _wait_unsubscribed(server: Server, stream: str) -> None:
    """The server's handler for the socket has ended: its bus subscription is gone."""
    bus = server.app.state.ctx.bus
    deadline = time.monotonic() + 15
    while bus.subscribers(stream) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert bus.subscribers(stream) == 0


def test_clients_dropping_sockets_leave_no_error_in_the_log(server: Server, desk: dict[str, Any]) -> None:
    from engine.bus import conversation_stream

    with server.http() as http:
        for n in range(60):  # a replay long enough to be cut off half-way
            http.post(f"/api/operator/conversations/{desk['id']}/reply", json={"text": f"line {n}"},
                      headers=bearer(desk["operator"])).raise_for_status()
    errors = _Errors()
    for name in ("", "uvicorn"):
        logging.getLogger(name).addHandler(errors)
    try:
        visitor = server.visitor_socket(desk["visitor"])
        _abort(visitor)  # during the replay
        _wait_unsubscribed(server, conversation_stream(desk["id"]))
        with server.visitor_socket(desk["visitor"]) as socket:  # after the replay, while idle
            receive_until(socket, lambda f: f["type"] == "state")
            _abort(socket)
        _wait_unsubscribed(server, conversation_stream(desk["id"]))
        operator = server.operator_socket(desk["operator"])
        operator.send(json.dumps({"type": "subscribe", "conversation_id": desk["id"]}))
        _abort(operator)  # during the operator's replay
        _wait_unsubscribed(server, conversation_stream(desk["id"], internal=True))
    finally:
        for name in ("", "uvicorn"):
            logging.getLogger(name).removeHandler(errors)
    assert [record.getMessage() for record in errors.records] == []
