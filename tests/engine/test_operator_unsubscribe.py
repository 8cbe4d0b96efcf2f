"""``unsubscribe`` on the operator socket: a console stops following a conversation that left its
lists, so a socket open all day does not follow every conversation it ever showed; the operator's
own conversations are always followed (an ``unsubscribe`` of one changes nothing).

Absence is proven by order, not by waiting: after the ``unsubscribe`` the socket is asked to
``subscribe`` to a second conversation (frames are handled in order, so its replay means the
``unsubscribe`` ran), then a note goes to each conversation, the first one's first; the second's
note arriving with none of the first's before it shows the first is no longer followed."""

from __future__ import annotations

import json
from typing import Any

from tests.engine.conftest import Server, receive_json, receive_until
from tests.engine.security.conftest import bearer


def _note(server: Server, writer: dict[str, Any], cid: int, text: str) -> int:
    with server.http() as http:
        answer = http.post(f"/api/operator/conversations/{cid}/note", json={"text": text},
                           headers=bearer(writer["token"]))
        answer.raise_for_status()
        return int(answer.json()["seq"])


def _message_of(cid: int, seq: int) -> Any:
    return lambda f: f.get("type") == "message.created" and f["conversation_id"] == cid and f["seq"] == seq


def test_unsubscribe_stops_a_conversation_and_subscribe_brings_it_back(server: Server) -> None:
    desk, writer = server.new_operator(name="Dee Desk"), server.new_operator(name="Wes Writer")
    first, second = (server.start_visitor()["conversation_id"] for _ in range(2))
    seen = _note(server, writer, first, "before")
    with server.operator_socket(desk["token"]) as socket:
        receive_json(socket)  # hello
        socket.send(json.dumps({"type": "subscribe", "conversation_id": first, "after": 0}))
        receive_until(socket, _message_of(first, seen))
        socket.send(json.dumps({"type": "unsubscribe", "conversation_id": first}))
        second_seen = _note(server, writer, second, "second, before")
        socket.send(json.dumps({"type": "subscribe", "conversation_id": second, "after": 0}))
        receive_until(socket, _message_of(second, second_seen))  # the unsubscribe has run

        missed = _note(server, writer, first, "while unsubscribed")
        marker = _note(server, writer, second, "after it")
        frames = receive_until(socket, _message_of(second, marker))
        assert not [f for f in frames if f.get("conversation_id") == first], frames

        socket.send(json.dumps({"type": "subscribe", "conversation_id": first, "after": seen}))
        back = receive_until(socket, _message_of(first, missed))  # replayed from the store
        assert [f["seq"] for f in back if f.get("conversation_id") == first] == [missed]
        live = _note(server, writer, first, "live again")
        receive_until(socket, _message_of(first, live))


def test_the_operators_own_conversation_stays_followed(server: Server) -> None:
    owner, writer = server.new_operator(name="Oona Owner"), server.new_operator(name="Wes Writer")
    cid = server.start_visitor()["conversation_id"]
    with server.http() as http:
        claimed = http.post(f"/api/operator/conversations/{cid}/claim", headers=bearer(owner["token"]))
        claimed.raise_for_status()
    with server.operator_socket(owner["token"]) as socket:
        assert cid in receive_json(socket)["watching"]
        socket.send(json.dumps({"type": "unsubscribe", "conversation_id": cid}))
        socket.send(json.dumps({"type": "unsubscribe", "conversation_id": 2**31 - 1}))  # never followed
        seq = _note(server, writer, cid, "still followed")
        frames = receive_until(socket, _message_of(cid, seq))
        assert not [f for f in frames if f.get("type") == "error"], frames


def test_a_conversation_passed_on_can_be_unsubscribed(server: Server) -> None:
    owner, other = server.new_operator(name="Oona Owner"), server.new_operator(name="Otto Other")
    cid, marker_cid = (server.start_visitor()["conversation_id"] for _ in range(2))
    with server.http() as http:
        claimed = http.post(f"/api/operator/conversations/{cid}/claim", headers=bearer(owner["token"]))
        claimed.raise_for_status()
        with server.operator_socket(owner["token"]) as socket:
            receive_json(socket)  # hello
            http.post(f"/api/operator/conversations/{cid}/takeover",
                      headers=bearer(other["token"])).raise_for_status()
            receive_until(socket, lambda f: f.get("type") == "conversation.assigned"
                          and f["conversation_id"] == cid and f["assignee_id"] == other["operator"]["id"])
            socket.send(json.dumps({"type": "unsubscribe", "conversation_id": cid}))
            socket.send(json.dumps({"type": "subscribe", "conversation_id": marker_cid, "after": 0}))
            missed = _note(server, other, cid, "not for Oona any more")
            marker = _note(server, other, marker_cid, "marker")
            frames = receive_until(socket, _message_of(marker_cid, marker))
            assert not [f for f in frames if f.get("type") == "error"], frames
            assert not [f for f in frames if _message_of(cid, missed)(f)], frames
