"""Who may act on a conversation, and what an operator's socket sends while it changes hands.

* A conversation another operator owns moves only by an explicit take-over: a claim or a reply
  from someone else is a 409 that says how to take it over; the take-over is shown to both.
* ``subscribe`` replays from the store while live events keep coming: the socket sends every
  message once, in seq order, even when the two race (several trials, both backends).
"""

from __future__ import annotations

import json
import threading
from typing import Any

from tests.engine.conftest import Server, receive_json, receive_until
from tests.engine.security.conftest import bearer


def test_another_operators_conversation_moves_only_by_an_explicit_take_over(server: Server) -> None:
    ann, bob = server.new_operator(name="Ann Owner"), server.new_operator(name="Bob Other")
    conversation = server.start_visitor()
    cid = conversation["conversation_id"]
    path = f"/api/operator/conversations/{cid}"
    with server.http() as http:
        http.post(f"{path}/claim", headers=bearer(ann["token"])).raise_for_status()
        with server.operator_socket(ann["token"]) as ann_socket, \
                server.operator_socket(bob["token"]) as bob_socket:
            assert cid in receive_json(ann_socket)["watching"]
            receive_json(bob_socket)
            for action, body in (("claim", None), ("reply", {"text": "I'll take this"})):
                refused = http.post(f"{path}/{action}", json=body, headers=bearer(bob["token"]))
                assert refused.status_code == 409, refused.text
                detail = refused.json()["detail"]
                assert "take it over first" in detail and f"{path}/takeover" in detail
            detail = http.get(path, headers=bearer(ann["token"])).json()
            assert detail["conversation"]["assignee_id"] == ann["operator"]["id"]
            assert all(m["text"] != "I'll take this" for m in detail["messages"])

            taken = http.post(f"{path}/takeover", headers=bearer(bob["token"]))
            assert taken.status_code == 200 and taken.json()["assignee_id"] == bob["operator"]["id"]
            for socket in (ann_socket, bob_socket):  # both see who took it from whom
                change = receive_until(socket, lambda f: f.get("type") == "conversation.assigned"
                                       and f["conversation_id"] == cid)[-1]
                assert change["assignee_id"] == bob["operator"]["id"]
                assert change["reason"] == f"taken over from operator {ann['operator']['id']}"
            note = receive_until(ann_socket,
                                 lambda f: f.get("message", {}).get("visibility") == "internal")[-1]
            assert note["message"]["text"] == "Bob Other took this conversation over from Ann Owner."

            back = http.post(f"{path}/reply", json={"text": "still mine?"}, headers=bearer(ann["token"]))
            assert back.status_code == 409  # the rule holds the other way round too
            assert http.post(f"{path}/reply", json={"text": "Bob here"},
                             headers=bearer(bob["token"])).status_code == 200
        seen = http.get("/api/visitor/messages", headers=bearer(conversation["token"])).json()["messages"]
    texts = [m["text"] for m in seen]
    assert "Bob Other will continue helping you." in texts and "Bob here" in texts
    assert not any("took this conversation over" in text for text in texts)  # the note is internal


def _race_once(server: Server, desk: dict[str, Any], writer: dict[str, Any]) -> None:
    conversation = server.start_visitor()
    cid = conversation["conversation_id"]
    path = f"/api/operator/conversations/{cid}/note"
    with server.http() as http:
        for n in range(15):  # history the replay must send
            http.post(path, json={"text": f"before {n}"}, headers=bearer(writer["token"])).raise_for_status()
    last: list[int] = []
    go = threading.Event()

    def write() -> None:
        go.wait()
        with server.http() as http:
            for n in range(25):  # live messages racing the replay
                answer = http.post(path, json={"text": f"during {n}"}, headers=bearer(writer["token"]))
                last.append(answer.json()["seq"])

    thread = threading.Thread(target=write)
    thread.start()
    with server.operator_socket(desk["token"]) as socket:
        receive_json(socket)  # hello
        go.set()
        socket.send(json.dumps({"type": "subscribe", "conversation_id": cid, "after": 0}))
        socket.send(json.dumps({"type": "subscribe", "conversation_id": cid, "after": 3}))  # asked again
        thread.join(timeout=60)
        final = last[-1]
        frames = receive_until(socket, lambda f: f.get("type") == "message.created"
                               and f["conversation_id"] == cid and f["seq"] == final, timeout=30)
    seqs = [f["seq"] for f in frames if f.get("type") == "message.created" and f["conversation_id"] == cid]
    assert seqs == list(range(1, final + 1)), seqs  # each once, never a step back, nothing missing


def test_subscribe_replay_racing_live_messages_sends_each_once_in_order(server: Server) -> None:
    desk, writer = server.new_operator(), server.new_operator()
    for _ in range(5):
        _race_once(server, desk, writer)
