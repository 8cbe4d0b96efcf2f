"""Supervisor controls in Chromium: a conversation's priority and a contact's VIP flag changed on one
supervisor page reorder the queue on another open page at once, audited with who and why; bad
values and operators without the role are refused."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from tests.engine.conftest import Server
from tests.operator_ui.conftest import Pages, sign_in

pytestmark = pytest.mark.browser


def ask_for_a_person(server: Server, name: str) -> dict:
    visitor = server.start_visitor(name=name)
    with server.http() as http:
        http.post(
            "/api/visitor/messages",
            headers={"Authorization": f"Bearer {visitor['token']}"},
            json={"text": "I want to talk to a person", "client_id": uuid.uuid4().hex},
        ).raise_for_status()
    return visitor


def test_priority_and_vip_reorder_the_queue_live(server: Server, pages: Pages) -> None:
    lee = server.new_operator(role="supervisor", name="Lee Lead")
    ada = server.new_operator(role="admin", name="Ada Admin")
    ask_for_a_person(server, "Ann")
    bob = ask_for_a_person(server, "Bob")
    mine = pages.open(f"{server.base_url}/supervisor")
    sign_in(mine, lee["operator"]["email"])
    theirs = pages.open(f"{server.base_url}/supervisor")
    sign_in(theirs, ada["operator"]["email"])
    expect(theirs.locator("#connection")).to_have_text("Live")
    expect(theirs.locator("#queue-rows tr").first).to_contain_text("Ann")  # waited longest

    mine.get_by_label("Priority of Bob").select_option("2")
    expect(theirs.locator("#queue-rows tr").first).to_contain_text("Bob")  # no reload
    expect(theirs.get_by_label("Priority of Bob")).to_have_value("2")
    mine.get_by_label("Ann is a VIP").click()
    expect(theirs.get_by_label("Ann is a VIP")).to_have_attribute("aria-pressed", "true")

    with server.http() as http:
        audit = http.get("/api/admin/audit", headers={"Authorization": f"Bearer {ada['token']}"}).json()
        assert [(e["target"].split(":")[0], e["actor_id"], e["reason"], e["changes"]) for e in audit[:2]] == [
            ("contact", lee["operator"]["id"], "supervisor view", {"vip": [False, True]}),
            ("conversation", lee["operator"]["id"], "supervisor view", {"priority": [0, 2]}),
        ]
        path = f"/api/supervisor/conversations/{bob['conversation_id']}/priority"
        bad = http.post(path, json={"priority": 9}, headers={"Authorization": f"Bearer {lee['token']}"})
        assert bad.status_code == 422 and "priority" in bad.text
        agent = server.new_operator(name="Sam Rivera")
        refused = http.post(path, json={"priority": 1}, headers={"Authorization": f"Bearer {agent['token']}"})
        assert refused.status_code == 403
