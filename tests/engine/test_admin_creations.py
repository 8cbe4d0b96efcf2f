"""An admin's creations are audited and live like their changes: inviting an operator, adding a
team or a canned reply writes an ``<entity>.created`` audit entry naming it and sends
``roster.updated`` to every open page, so another admin's page lists it without a reload."""

from __future__ import annotations

import uuid

from tests.engine.conftest import Server, receive_json, receive_until
from tests.engine.security.conftest import bearer


def test_creations_are_audited_and_announced(server: Server) -> None:
    ada, lee = server.new_operator(role="admin", name="Ada Admin"), server.new_operator(role="admin")
    tag = uuid.uuid4().hex[:8]
    bodies = {
        "operators": {"email": f"new-{tag}@example.com", "name": "Nia New", "password": "correct-horse",
                      "role": "operator"},
        "teams": {"name": f"Returns {tag}"},
        "canned": {"shortcut": f"/thanks{tag}", "title": "Thanks", "text": "Thank you, {contact.name}!"},
    }
    entities = {"operators": "operator", "teams": "team", "canned": "canned"}
    with server.operator_socket(lee["token"]) as socket, server.http() as http:
        receive_json(socket)  # hello
        for path, body in bodies.items():
            made = http.post(f"/api/admin/{path}", json=body, headers=bearer(ada["token"]))
            assert made.status_code == 201, made.text
            created = made.json()["id"]
            event = receive_until(socket, lambda f: f.get("type") == "roster.updated")[-1]
            assert (event["entity"], event["target_id"], event["actor_id"]) == (
                entities[path], created, ada["operator"]["id"])
        audit = http.get("/api/admin/audit", params={"limit": 3}, headers=bearer(ada["token"])).json()
    assert [(e["action"], e["actor_id"]) for e in audit] == [
        ("canned.created", ada["operator"]["id"]), ("team.created", ada["operator"]["id"]),
        ("operator.created", ada["operator"]["id"])]
    assert audit[0]["changes"] == {"shortcut": [None, f"/thanks{tag}"], "title": [None, "Thanks"]}
    assert audit[2]["changes"] == {"email": [None, f"new-{tag}@example.com"], "name": [None, "Nia New"],
                                   "role": [None, "operator"]}
    assert "password" not in str(audit[2])


def test_a_refused_creation_writes_no_audit_entry(server: Server) -> None:
    ada = server.new_operator(role="admin", name="Ada Admin")
    with server.http() as http:
        before = http.get("/api/admin/audit", params={"limit": 1}, headers=bearer(ada["token"])).json()
        bad = http.post("/api/admin/canned", json={"shortcut": f"/x{uuid.uuid4().hex[:6]}", "title": "X",
                                                   "text": "Hi {contact.nam}"}, headers=bearer(ada["token"]))
        assert bad.status_code in (400, 422) and "contact.nam" in bad.text
        after = http.get("/api/admin/audit", params={"limit": 1}, headers=bearer(ada["token"])).json()
    assert after == before
