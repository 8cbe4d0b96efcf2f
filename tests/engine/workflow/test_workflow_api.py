"""The operator workflow over a real server (uvicorn, real WebSockets) on SQLite and PostgreSQL:
notes never reach the visitor on any payload, transfers keep the history, and the workflow
routes (presence, queue, canned, drafts, context, metrics) answer as documented.

The server has no knowledge base, so every visitor question goes to a person. Each backend gets
a database of its own: routing reads the whole floor, so sharing one with other tests would let
this server's operators take their conversations.
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlmodel import Session

from engine.db import make_engine
from engine.models import CannedResponse, Team
from engine.settings import Settings
from tests.engine.conftest import Server, postgres_database, receive_json, run_server

SECRET = "internal note: customer is on the fraud watch list"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def desk(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    def serve(url: str) -> Iterator[Server]:
        settings = Settings(environment="test", secret_key=secrets.token_urlsafe(32), database_url=url,
                            index_dir=tmp_path_factory.mktemp("no-index"), routing_interval_seconds=0.5)
        yield from run_server(settings, None)

    if request.param == "sqlite":
        yield from serve(f"sqlite:///{tmp_path_factory.mktemp('workflow') / 'baton.db'}")
    else:
        with postgres_database() as url:
            yield from serve(url)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def wait_for(check: Any, what: str, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def rows(server: Server, *items: Any) -> list[int]:
    engine = make_engine(server.settings.database_url)
    with Session(engine) as session:
        session.add_all(items)
        session.commit()
        ids = [item.id for item in items]
    engine.dispose()
    return ids


def frames_until(socket: Any, predicate: Any, timeout: float = 10) -> list[dict[str, Any]]:
    """Every frame (as text and parsed) up to the first that satisfies ``predicate``."""
    frames = []
    deadline = time.monotonic() + timeout
    while True:
        raw = socket.recv(timeout=max(0.01, deadline - time.monotonic()))
        frames.append((raw, json.loads(raw)))
        if predicate(frames[-1][1]):
            return frames


def escalate(server: Server, **visitor: Any) -> dict[str, Any]:
    conversation = server.start_visitor(**visitor)
    with server.http() as http:
        response = http.post("/api/visitor/messages", headers=auth(conversation["token"]),
                             json={"text": "my order #4455667 arrived broken", "client_id": uuid.uuid4().hex})
    assert response.status_code == 200
    return conversation


def presence(server: Server, operator: dict[str, Any], status: str) -> None:
    with server.http() as http:
        response = http.post("/api/operator/presence", json={"status": status},
                             headers=auth(operator["token"]))
    assert response.status_code == 200 and response.json()["status"] == status


@contextmanager
def online(server: Server, operator: dict[str, Any]) -> Iterator[None]:
    """Online for the test, then away: keeps what they own, takes nothing from later tests."""
    presence(server, operator, "online")
    try:
        yield
    finally:
        presence(server, operator, "away")


def detail(server: Server, operator: dict[str, Any], conversation_id: int) -> dict[str, Any]:
    with server.http() as http:
        return http.get(f"/api/operator/conversations/{conversation_id}",
                        headers=auth(operator["token"])).json()


def test_notes_never_reach_the_visitor(desk: Server) -> None:
    sam = desk.new_operator(name="Sam")
    with online(desk, sam):
        conversation = escalate(desk, name="Ann")
        cid = conversation["conversation_id"]
        wait_for(lambda: detail(desk, sam, cid)["conversation"]["assignee_id"] == sam["operator"]["id"],
                 "routing to Sam")
    with desk.visitor_socket(conversation["token"]) as visitor, desk.http() as http:
        receive_json(visitor)  # replay and state
        note = http.post(f"/api/operator/conversations/{cid}/note", json={"text": SECRET},
                         headers=auth(sam["token"]))
        assert note.status_code == 200 and note.json()["visibility"] == "internal"
        tagged = http.post(f"/api/operator/conversations/{cid}/tags", json={"add": ["fraud-check"]},
                           headers=auth(sam["token"]))
        assert tagged.status_code == 200
        reply = http.post(f"/api/operator/conversations/{cid}/reply",
                          json={"text": "Hello Ann, I'm on it."}, headers=auth(sam["token"]))
        assert reply.status_code == 200
        live = frames_until(visitor, lambda f: f.get("type") == "message"
                            and f["message"]["role"] == "operator")
        history = http.get("/api/visitor/messages", headers=auth(conversation["token"])).json()
    with desk.visitor_socket(conversation["token"], after=0) as replayed:
        replay = frames_until(replayed, lambda f: f.get("type") == "state")
    payloads = [raw for raw, _ in live + replay] + [json.dumps(history)]
    assert all(SECRET not in p and "internal" not in p and "draft" not in p for p in payloads)
    assert "Hello Ann, I'm on it." in json.dumps(history)
    operator_view = detail(desk, sam, cid)
    assert [m["text"] for m in operator_view["messages"] if m["visibility"] == "internal"] == [SECRET]


def test_transfers_keep_the_history(desk: Server) -> None:
    ids = rows(desk, Team(name=f"Returns {uuid.uuid4().hex[:6]}"))
    returns_team = ids[0]
    first, second = desk.new_operator(name="First"), desk.new_operator(name="Second")
    specialist = desk.new_operator(name="Specialist", team_id=returns_team)
    conversation = escalate(desk, name="Bo")
    cid = conversation["conversation_id"]
    with desk.http() as http:
        claimed = http.post(f"/api/operator/conversations/{cid}/claim", headers=auth(first["token"]))
        assert claimed.status_code == 200
        http.post(f"/api/operator/conversations/{cid}/reply", json={"text": "Let me check."},
                  headers=auth(first["token"]))
        presence(desk, second, "away")  # not available: the transfer goes back to the queue
        refused = http.post(f"/api/operator/conversations/{cid}/transfer", headers=auth(first["token"]),
                            json={"operator_id": second["operator"]["id"]})
        assert refused.json()["state"] == "queued" and refused.json()["assignee_id"] is None
        http.post(f"/api/operator/conversations/{cid}/claim", headers=auth(first["token"])).raise_for_status()
        presence(desk, second, "online")
        moved = http.post(f"/api/operator/conversations/{cid}/transfer", headers=auth(first["token"]),
                          json={"operator_id": second["operator"]["id"], "note": "needs a refund"})
        assert moved.json()["assignee_id"] == second["operator"]["id"]
        presence(desk, second, "away")  # keeps it, takes nothing from later tests
        http.post(f"/api/operator/conversations/{cid}/reply", json={"text": "I have it now."},
                  headers=auth(second["token"]))
        queued = http.post(f"/api/operator/conversations/{cid}/transfer", headers=auth(second["token"]),
                           json={"team_id": returns_team})
        assert queued.json()["state"] == "queued"
    with online(desk, specialist):
        final = wait_for(lambda: (d := detail(desk, specialist, cid))["conversation"]["assignee_id"]
                         == specialist["operator"]["id"] and d, "routing to the returns team")
    texts = [m["text"] for m in final["messages"]]
    for said in ("my order #4455667 arrived broken", "Let me check.", "needs a refund", "I have it now."):
        assert said in texts
    moves = [t["to_state"] for t in final["transitions"]]
    assert moves[-6:] == ["assigned", "queued", "assigned", "assigned", "queued", "assigned"]
    with desk.http() as http:
        visible = http.get("/api/visitor/messages", headers=auth(conversation["token"])).json()["messages"]
    assert {"Let me check.", "I have it now."} <= {m["text"] for m in visible}
    assert "needs a refund" not in {m["text"] for m in visible}


def test_workflow_routes(desk: Server) -> None:
    kim = desk.new_operator(name="Kim", capacity=0)  # online but takes nothing: the queue stays
    presence(desk, kim, "online")
    rows(desk, CannedResponse(shortcut=f"refund-{uuid.uuid4().hex[:6]}", title="Refund started",
                              text="Hi {contact.name}, the refund for order {order.number} has started."),
         CannedResponse(shortcut=f"bad-{uuid.uuid4().hex[:6]}", title="Broken", text="Hi {name}"))
    conversation = escalate(desk, name="Cy", email=f"cy-{uuid.uuid4().hex[:6]}@example.com")
    cid = conversation["conversation_id"]
    headers = auth(kim["token"])
    with desk.http() as http:
        queue = http.get("/api/queue", headers=headers).json()
        entry = next(e for e in queue["entries"] if e["conversation_id"] == cid)
        assert entry["position"] >= 1 and entry["wait_seconds"] is None  # nobody can take it: no guess
        found = http.get("/api/operator/canned", params={"q": "/refund"}, headers=headers).json()
        assert found and all(c["shortcut"].startswith("refund") for c in found)
        filled = http.get(f"/api/operator/conversations/{cid}/canned/{found[0]['id']}", headers=headers)
        assert filled.json()["text"] == "Hi Cy, the refund for order 4455667 has started."
        broken = http.get("/api/operator/canned", params={"q": "/bad"}, headers=headers).json()[0]
        refused = http.get(f"/api/operator/conversations/{cid}/canned/{broken['id']}", headers=headers)
        assert refused.status_code == 422
        assert "unknown placeholder {name}" in refused.json()["detail"][0]["msg"]
        drafts = wait_for(lambda: http.get(f"/api/operator/conversations/{cid}/drafts",
                                           headers=headers).json(), "drafts at handoff")
        assert "continuation" in {d["kind"] for d in drafts}
        asked = http.post(f"/api/operator/conversations/{cid}/drafts", headers=headers)  # drafted already
        assert asked.status_code == 202
        assert http.get(f"/api/operator/conversations/{cid}/drafts", headers=headers).json() == drafts
        missing = http.post("/api/operator/conversations/999999/drafts", headers=headers)
        assert missing.status_code == 404 and "conversation 999999 does not exist" in missing.text
        assert http.post(f"/api/operator/conversations/{cid}/drafts").status_code == 401
        context = http.get(f"/api/operator/conversations/{cid}/context", headers=headers).json()
        assert context["contact"]["name"] == "Cy" and context["conversations"] == []
        report = http.get("/api/metrics", headers=headers).json()
        assert report["conversations"] >= 1 and report["handoff"]["count"] >= 1
        bad = http.get("/api/metrics", params={"start": "last tuesday"}, headers=headers)
        assert bad.status_code == 422 and "start must be an ISO date" in bad.json()["detail"][0]["msg"]
        assert http.get("/api/metrics").status_code == 401
        wrong = http.post("/api/operator/presence", json={"status": "busy"}, headers=headers)
        assert wrong.status_code == 422
        # leave the desk as found: nothing queued, Kim away
        http.post(f"/api/operator/conversations/{cid}/resolve", headers=headers).raise_for_status()
    presence(desk, kim, "away")


def test_a_queued_visitor_sees_position_and_wait_live(desk: Server) -> None:
    lee = desk.new_operator(name="Lee", capacity=1)
    with online(desk, lee):
        first = escalate(desk, name="Dee")
        wait_for(lambda: detail(desk, lee, first["conversation_id"])["conversation"]["state"] == "assigned",
                 "the first conversation to reach Lee")
        second = desk.start_visitor(name="Eve")
        with desk.visitor_socket(second["token"]) as visitor, desk.http() as http:
            receive_json(visitor)  # the state as connected: with the bot
            visitor.send(json.dumps({"type": "message", "text": "I need a person", "client_id": "e-1"}))
            frames = frames_until(visitor, lambda f: f.get("type") == "message"
                                  and "in line" in f["message"]["text"])  # told after routing ran
            queue = next(f["queue"] for _, f in reversed(frames)
                         if f.get("type") == "state" and f.get("queue"))
            assert queue["position"] == 1
            assert 0 < queue["wait_seconds"] <= 600  # Lee's one slot frees within a default handle time
            notice = frames[-1][1]["message"]["text"]
            assert notice.startswith("You're number 1 in line") and "minute" in notice
            http.post(f"/api/operator/conversations/{first['conversation_id']}/resolve",
                      headers=auth(lee["token"])).raise_for_status()
            frames_until(visitor, lambda f: f.get("type") == "state" and f["state"] == "assigned")
