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


def test_a_capacity_being_typed_survives_a_live_redraw(server: Server, pages: Pages) -> None:
    """Every presence, queue or roster event redraws the supervisor's tables; a capacity typed and
    not yet committed (no Enter, no blur) stays there with the focus, and is saved once committed."""
    lee = server.new_operator(role="supervisor", name="Lee Lead")
    sam, kim = server.new_operator(name="Sam Typing"), server.new_operator(name="Kim Elsewhere")
    page = pages.open(f"{server.base_url}/supervisor")
    sign_in(page, lee["operator"]["email"])
    expect(page.locator("#connection")).to_have_text("Live")
    capacity = page.get_by_label("Capacity of Sam Typing")
    capacity.fill("7")  # typed, not committed: no change event yet
    with server.http() as http:  # another supervisor changes another row: a roster event, a redraw
        http.patch(f"/api/supervisor/operators/{kim['operator']['id']}", json={"capacity": 5,
                   "reason": "cover"}, headers={"Authorization": f"Bearer {lee['token']}"}).raise_for_status()
    expect(page.get_by_label("Capacity of Kim Elsewhere")).to_have_value("5")  # the redraw ran
    expect(capacity).to_have_value("7")
    expect(capacity).to_be_focused()
    sam_id = sam["operator"]["id"]
    with page.expect_response(lambda r: r.url.endswith(f"/api/supervisor/operators/{sam_id}")
                              and r.request.method == "PATCH") as saved:
        capacity.press("Enter")
    assert saved.value.ok
    with server.http() as http:
        roster = http.get("/api/operators", headers={"Authorization": f"Bearer {lee['token']}"}).json()
    assert next(o["capacity"] for o in roster["operators"] if o["id"] == sam_id) == 7
    expect(page.get_by_label("Capacity of Sam Typing")).to_have_value("7")
