"""What the API refuses, and how clearly: sizes, missing or wrong credentials, roles, bad input."""

from __future__ import annotations

import json
import logging

from engine.app import REDACT_TOKENS
from tests.engine.conftest import Server, receive_json, receive_until
from tests.engine.test_chat_flow import auth


def test_oversized_bodies_and_messages_are_refused_with_a_clear_message(server: Server) -> None:
    conversation = server.start_visitor()
    limit = server.settings.max_request_bytes
    with server.http() as http:
        huge = http.post("/api/visitor/messages", content=b'{"text": "' + b"x" * (limit + 10) + b'"}',
                         headers={**auth(conversation["token"]), "Content-Type": "application/json"})
        assert huge.status_code == 413 and f"limit is {limit} bytes" in huge.json()["detail"]
        long_text = "y" * (server.settings.max_message_chars + 1)
        visitor = auth(conversation["token"])
        too_long = http.post("/api/visitor/messages", json={"text": long_text}, headers=visitor)
        assert too_long.status_code == 422 and "limit is" in too_long.json()["detail"][0]["msg"]
        empty = http.post("/api/visitor/messages", json={"text": ""}, headers=visitor)
        assert empty.status_code == 422 and empty.json()["detail"][0]["loc"] == ["body", "text"]


def test_operator_and_admin_routes_need_the_right_account(server: Server) -> None:
    operator = server.new_operator()
    admin = server.new_operator(role="admin")
    with server.http() as http:
        assert http.get("/api/operator/conversations").status_code == 401
        wrong = http.post("/api/operator/login", json={"email": "nobody@example.com", "password": "x" * 8})
        assert wrong.status_code == 401 and wrong.json()["detail"] == "wrong email or password"
        assert http.get("/api/admin/operators", headers=auth(operator["token"])).status_code == 403
        listed = http.get("/api/admin/operators", headers=auth(admin["token"]))
        assert listed.status_code == 200
        assert all("password" not in row and "password_hash" not in row for row in listed.json())
        created = http.post("/api/admin/teams", json={"name": "Billing", "skills": ["topic:billing"]},
                            headers=auth(admin["token"]))
        assert created.status_code == 201 and created.json()["skills"] == ["topic:billing"]


def test_conflicts_and_missing_things_say_what_is_wrong(server: Server) -> None:
    first, second = server.new_operator(), server.new_operator()
    conversation = server.start_visitor()
    path = f"/api/operator/conversations/{conversation['conversation_id']}"
    with server.http() as http:
        assert http.post(f"{path}/claim", headers=auth(first["token"])).status_code == 200
        taken = http.post(f"{path}/claim", headers=auth(second["token"]))
        assert taken.status_code == 409 and "assigned" in taken.json()["detail"]
        missing = http.post("/api/operator/conversations/999999/claim", headers=auth(first["token"]))
        assert missing.status_code == 404 and "999999" in missing.json()["detail"]
        early = http.post("/api/visitor/csat", json={"score": 5}, headers=auth(conversation["token"]))
        assert early.status_code == 409
        bad_score = http.post("/api/visitor/csat", json={"score": 9}, headers=auth(conversation["token"]))
        assert bad_score.status_code == 422


def test_internal_notes_never_appear_in_visitor_payloads(server: Server) -> None:
    operator = server.new_operator()
    conversation = server.start_visitor()
    path = f"/api/operator/conversations/{conversation['conversation_id']}"
    with server.http() as http:
        http.post(f"{path}/note", json={"text": "internal: refund fraud check"},
                  headers=auth(operator["token"]))
        visible = http.get("/api/visitor/messages", headers=auth(conversation["token"])).text
        detail = http.get(path, headers=auth(operator["token"])).json()
    assert "fraud check" not in visible
    assert [m["visibility"] for m in detail["messages"]] == ["internal"]


def test_docs_pages_and_the_widget_are_served(server: Server) -> None:
    with server.http() as http:
        assert http.get("/docs").status_code == 200
        paths = http.get("/openapi.json").json()["paths"]
        assert "/api/visitor/messages" in paths and "/api/operator/login" in paths
        for page in ("/", "/demo", "/operator"):
            response = http.get(page)
            assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
        assert http.get("/widget.js").headers["content-type"].startswith("text/javascript")
        assert http.get("/health").json()["bot"] is True


def test_socket_errors_name_what_is_wrong_and_keep_the_socket_open(server: Server) -> None:
    conversation = server.start_visitor()
    with server.visitor_socket(conversation["token"]) as socket:
        receive_json(socket)
        socket.send("not json")
        assert receive_json(socket)["detail"].startswith("not JSON")
        socket.send(json.dumps({"type": "message", "text": "x" * 30_000, "client_id": "big"}))
        too_long = receive_json(socket)
        assert too_long["type"] == "error" and too_long["client_id"] == "big" and "text" in too_long["detail"]
        socket.send(json.dumps({"type": "shout"}))
        assert "unknown message type 'shout'" in receive_json(socket)["detail"]
        socket.send(json.dumps({"type": "typing", "on": True}))
        socket.send(json.dumps({"type": "message", "text": "still here?", "client_id": "ok-1"}))
        assert receive_until(socket, lambda f: f["type"] == "ack")[-1]["client_id"] == "ok-1"


def test_operator_socket_replays_notes_and_sees_the_visitor_typing(server: Server) -> None:
    operator = server.new_operator()
    conversation = server.start_visitor()
    path = f"/api/operator/conversations/{conversation['conversation_id']}"
    with server.http() as http:
        http.post(f"{path}/claim", headers=auth(operator["token"]))
        http.post(f"{path}/note", json={"text": "check the order first"}, headers=auth(operator["token"]))
    desk_socket = server.operator_socket(operator["token"])
    with desk_socket as desk, server.visitor_socket(conversation["token"]) as socket:
        hello = receive_json(desk)
        assert conversation["conversation_id"] in hello["watching"]
        desk.send(json.dumps({"type": "subscribe", "conversation_id": conversation["conversation_id"]}))
        replayed = receive_until(desk, lambda f: f.get("message", {}).get("visibility") == "internal")
        assert replayed[-1]["message"]["text"] == "check the order first"
        receive_json(socket)
        socket.send(json.dumps({"type": "typing", "on": True}))
        typing = receive_until(desk, lambda f: f["type"] == "typing")[-1]
        assert typing.pop("id") > 0  # every relayed event carries its stream and its id there
        assert typing == {"type": "typing", "conversation_id": conversation["conversation_id"],
                          "role": "visitor", "on": True, "operator_id": None,
                          "stream": f"conversation:{conversation['conversation_id']}"}
        conversation_id = conversation["conversation_id"]
        desk.send(json.dumps({"type": "typing", "conversation_id": conversation_id, "on": True}))
        assert receive_until(socket, lambda f: f["type"] == "typing")[-1] == {
            "type": "typing", "role": "operator", "on": True}


def test_socket_tokens_are_masked_in_server_logs() -> None:
    record = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, '%s - "WebSocket %s" [accepted]',
                               ("127.0.0.1:5000", "/ws/visitor?token=s3cr3t-Token_x&after=4"), None)
    assert REDACT_TOKENS.filter(record)
    message = record.getMessage()
    assert "s3cr3t" not in message and "/ws/visitor?token=[redacted]&after=4" in message
