"""A visitor and an operator over real WebSockets against a real server, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from tests.engine.conftest import Server, receive_json, receive_until


def is_message(role: str) -> Any:
    return lambda frame: frame["type"] == "message" and frame["message"]["role"] == role


def is_state(state: str) -> Any:
    return lambda frame: frame["type"] == "state" and frame["state"] == state


def send(socket: Any, text: str, client_id: str | None = None) -> dict[str, Any]:
    """Send a visitor message and return its ack (skipping frames that come before it)."""
    client_id = client_id or uuid.uuid4().hex
    socket.send(json.dumps({"type": "message", "text": text, "client_id": client_id}))
    return receive_until(socket, lambda f: f["type"] == "ack" and f["client_id"] == client_id)[-1]


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_visitor_gets_a_cited_answer(server: Server) -> None:
    conversation = server.start_visitor(name="Ann")
    with server.visitor_socket(conversation["token"]) as socket:
        assert receive_json(socket) == {"type": "state", "state": "bot", "seq": 0, "queue": None}
        ack = send(socket, "how long does shipping take?")
        assert ack["seq"] == 1 and ack["duplicate"] is False
        answer = receive_until(socket, is_message("bot"))[-1]["message"]
    assert "business days" in answer["text"]
    assert answer["citations"][0]["doc_id"] == "shipping:time"
    assert answer["confidence"] > 0


def test_handoff_from_request_to_resolution(server: Server) -> None:
    conversation = server.start_visitor(name="Bo")
    operator = server.new_operator(name="Alex")
    visitor_socket = server.visitor_socket(conversation["token"])
    with visitor_socket as visitor, server.operator_socket(operator["token"]) as desk:
        assert receive_json(desk)["type"] == "hello"
        receive_json(visitor)  # initial state
        send(visitor, "this is useless, get me a human")
        frames = receive_until(visitor, lambda f: is_message("system")(f)
                               and "in line" in f["message"]["text"])
        notices = [f["message"]["text"] for f in frames if is_message("system")(f)]
        assert "person" in notices[0] and notices[-1].startswith("You're number ")  # told once routed
        positions = [f["queue"]["position"] for f in frames if is_state("queued")(f) and f["queue"]]
        assert positions and positions[-1] >= 1  # the live position came before the words
        event = receive_until(desk, lambda f: f["type"] == "conversation.queued"
                              and f["conversation_id"] == conversation["conversation_id"])[-1]
        assert event["actor"] == "bot"

        with server.http() as http:
            listed = http.get("/api/operator/conversations", params={"state": "queued"},
                              headers=auth(operator["token"])).json()
            mine = next(row for row in listed if row["conversation"]["id"] == conversation["conversation_id"])
            assert "explicit_request" in mine["reasons"]
            claimed = http.post(f"/api/operator/conversations/{conversation['conversation_id']}/claim",
                                headers=auth(operator["token"]))
            assert claimed.status_code == 200 and claimed.json()["assignee_id"] == operator["operator"]["id"]
            assert receive_until(visitor, is_message("system"))[-1]["message"]["text"].startswith("Alex")

            send(visitor, "my order 1234 never arrived")  # the operator sees it live
            seen = receive_until(desk, lambda f: f["type"] == "message.created"
                                 and f["message"]["role"] == "visitor")[-1]
            assert seen["message"]["text"] == "my order 1234 never arrived"

            reply = http.post(f"/api/operator/conversations/{conversation['conversation_id']}/reply",
                              json={"text": "I'm on it <b>now</b>", "client_id": "op-1"},
                              headers=auth(operator["token"]))
            assert reply.status_code == 200
            got = receive_until(visitor, is_message("operator"))[-1]["message"]
            assert got["text"] == "I'm on it <b>now</b>"  # JSON text, never rendered here

            resolved = http.post(f"/api/operator/conversations/{conversation['conversation_id']}/resolve",
                                 headers=auth(operator["token"]))
            assert resolved.json()["state"] == "resolved"
            receive_until(visitor, is_state("resolved"))
            csat = http.post("/api/visitor/csat", json={"score": 5}, headers=auth(conversation["token"]))
            assert csat.status_code == 204

        history = server_history(server, conversation["token"])
    roles = [m["role"] for m in history["messages"]]
    after_handoff = roles[roles.index("system"):]
    assert "bot" not in after_handoff  # from the handoff on, the bot said nothing visible
    assert history["state"] == "resolved"


def test_an_explicit_request_on_the_first_turn_escalates(server: Server) -> None:
    conversation = server.start_visitor()
    with server.http() as http:
        sent = http.post("/api/visitor/messages", json={"text": "I want to speak to a real person"},
                         headers=auth(conversation["token"]))
    body = sent.json()
    assert [m["role"] for m in body["replies"]] == ["system", "system"]  # a person comes; where you stand
    assert body["replies"][1]["text"].startswith("You're number ")
    assert server_history(server, conversation["token"])["state"] == "queued"
    operator = server.new_operator()
    with server.http() as http:
        detail = http.get(f"/api/operator/conversations/{conversation['conversation_id']}",
                          headers=auth(operator["token"])).json()
    [decision] = detail["decisions"]
    assert decision["action"] == "escalate" and decision["reasons"][0] == "explicit_request"
    assert detail["packet"]["summary"]


def test_reconnecting_with_the_last_seq_gets_exactly_what_was_missed(server: Server) -> None:
    conversation = server.start_visitor()
    operator = server.new_operator()
    conversation_id = conversation["conversation_id"]
    with server.visitor_socket(conversation["token"]) as socket:
        receive_json(socket)
        send(socket, "hello there")
        last_seen = 1
    with server.http() as http:
        http.post(f"/api/operator/conversations/{conversation_id}/claim", headers=auth(operator["token"]))
        for n in range(3):
            http.post(f"/api/operator/conversations/{conversation_id}/reply", json={"text": f"update {n}"},
                      headers=auth(operator["token"]))
        http.post(f"/api/operator/conversations/{conversation_id}/note", json={"text": "secret note"},
                  headers=auth(operator["token"]))
    expected = [m for m in server_history(server, conversation["token"])["messages"] if m["seq"] > last_seen]
    with server.visitor_socket(conversation["token"], after=last_seen) as socket:
        frames = receive_until(socket, lambda f: f["type"] == "state")
    replayed = [f["message"] for f in frames if f["type"] == "message"]
    assert [m["seq"] for m in replayed] == [m["seq"] for m in expected]
    assert [m["text"] for m in replayed][-3:] == ["update 0", "update 1", "update 2"]
    assert all(m["visibility"] == "public" for m in replayed)
    assert "secret note" not in str(frames)


def test_a_message_sent_twice_with_one_client_id_is_stored_once(server: Server) -> None:
    conversation = server.start_visitor()
    with server.visitor_socket(conversation["token"]) as socket:
        receive_json(socket)
        first = send(socket, "where is my refund", client_id="dup-1")
        again = send(socket, "where is my refund", client_id="dup-1")
    assert again["seq"] == first["seq"] and again["duplicate"] is True
    texts = [m["text"] for m in server_history(server, conversation["token"])["messages"]
             if m["role"] == "visitor"]
    assert texts == ["where is my refund"]


def test_a_visitor_token_reads_its_own_conversation_only(server: Server) -> None:
    first, second = server.start_visitor(), server.start_visitor()
    with server.http() as http:
        http.post("/api/visitor/messages", json={"text": "first visitor's private question"},
                  headers=auth(first["token"]))
        theirs = http.get("/api/visitor/messages", headers=auth(second["token"])).json()
        assert "private question" not in str(theirs)
        assert http.get("/api/visitor/messages", headers=auth("made-up")).status_code == 401
        assert http.get("/api/operator/conversations", headers=auth(first["token"])).status_code == 401
        detail = http.get(f"/api/operator/conversations/{first['conversation_id']}",
                          headers=auth(second["token"]))
        assert detail.status_code == 401
    with server.visitor_socket("made-up") as socket, pytest.raises(ConnectionClosed) as closed:
        socket.recv(timeout=5)
    assert closed.value.rcvd.code == 4401 and "token" in closed.value.rcvd.reason


def server_history(server: Server, token: str) -> dict[str, Any]:
    with server.http() as http:
        response = http.get("/api/visitor/messages", headers=auth(token))
    response.raise_for_status()
    return response.json()
