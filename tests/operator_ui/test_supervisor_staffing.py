"""Supervisor runtime staffing in Chromium: an operator's team and capacity, a team's overflow and a
reassignment changed on one supervisor page show on another open page without a reload, each
audited with who and why; a reassignment to an operator who is offline and a capacity out of range
are refused with a message naming what is wrong."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.engine.conftest import Server
from tests.operator_ui.conftest import Pages, sign_in
from tests.operator_ui.test_supervisor_controls import ask_for_a_person

pytestmark = pytest.mark.browser


def go_online(server: Server, token: str) -> None:
    with server.http() as http:
        http.post("/api/operator/presence", json={"status": "online"},
                  headers={"Authorization": f"Bearer {token}"}).raise_for_status()


def test_team_capacity_overflow_and_reassignment_live_and_audited(server: Server, pages: Pages) -> None:
    lee = server.new_operator(role="supervisor", name="Lee Lead")
    ada = server.new_operator(role="admin", name="Ada Admin")
    admin_headers = {"Authorization": f"Bearer {ada['token']}"}
    with server.http() as http:
        billing, tech = (http.post("/api/admin/teams", json={"name": name}, headers=admin_headers).json()
                         for name in ("Billing", "Tech"))
    sam = server.new_operator(name="Sam Rivera")
    kim = server.new_operator(name="Kim Osei")
    server.new_operator(name="Zoe Offline")
    go_online(server, sam["token"])
    ask_for_a_person(server, "Ann")  # routed to Sam, the only one online
    go_online(server, kim["token"])

    mine = pages.open(f"{server.base_url}/supervisor")
    sign_in(mine, lee["operator"]["email"])
    theirs = pages.open(f"{server.base_url}/supervisor")
    sign_in(theirs, ada["operator"]["email"])
    expect(theirs.locator("#connection")).to_have_text("Live")
    expect(theirs.locator("#assigned-rows tr", has_text="Ann")).to_contain_text("Sam Rivera")

    mine.get_by_label("Team of Sam Rivera").select_option(label="Billing")
    expect(theirs.get_by_label("Team of Sam Rivera")).to_have_value(str(billing["id"]))  # no reload
    mine.get_by_label("Capacity of Kim Osei").fill("5")
    mine.get_by_label("Capacity of Kim Osei").press("Enter")
    expect(theirs.locator("#operator-rows tr", has_text="Kim Osei")).to_contain_text("0 / 5")
    mine.get_by_label("Overflow of Billing").select_option(label="to Tech")
    expect(theirs.get_by_label("Overflow of Billing")).to_have_value(str(tech["id"]))
    mine.get_by_label("Reassign Ann").first.select_option(label="Kim Osei")
    expect(theirs.locator("#assigned-rows tr", has_text="Ann")).to_contain_text("Kim Osei")
    expect(theirs.locator("#operator-rows tr", has_text="Kim Osei")).to_contain_text("1 / 5")
    mine.get_by_label("Overflow of Billing").select_option(label="closed")
    expect(theirs.get_by_label("Overflow of Billing")).to_have_value("")

    mine.get_by_label("Reassign Ann").first.select_option(label="Zoe Offline (offline)")
    expect(mine.locator("#control-error")).to_contain_text("Zoe Offline")
    expect(mine.locator("#control-error")).to_contain_text("not available")
    expect(theirs.locator("#assigned-rows tr", has_text="Ann")).to_contain_text("Kim Osei")  # it stayed
    mine.get_by_label("Capacity of Kim Osei").fill("500")
    mine.get_by_label("Capacity of Kim Osei").press("Enter")
    expect(mine.locator("#control-error")).to_contain_text("capacity")

    with server.http() as http:
        audit = http.get("/api/admin/audit", headers=admin_headers).json()
    assert {(e["actor_id"], e["reason"]) for e in audit[:5]} == {(lee["operator"]["id"], "supervisor view")}
    assert [(e["action"], e["target"], e["changes"]) for e in audit[:5]] == [
        ("team.updated", f"team:{billing['id']}", {"backup_team_id": [tech["id"], None]}),
        ("conversation.reassigned", audit[1]["target"],
         {"assignee_id": [sam["operator"]["id"], kim["operator"]["id"]]}),
        ("team.updated", f"team:{billing['id']}", {"backup_team_id": [None, tech["id"]]}),
        ("operator.updated", f"operator:{kim['operator']['id']}", {"capacity": [3, 5]}),
        ("operator.updated", f"operator:{sam['operator']['id']}", {"team_id": [None, billing["id"]]}),
    ]
    assert all(e["created_at"] for e in audit[:5])


def test_supervisor_staffing_routes_refuse_bad_input_and_operators(server: Server) -> None:
    lee = server.new_operator(role="supervisor", name="Lee Lead")
    agent = server.new_operator(name="Sam Rivera")
    lead = {"Authorization": f"Bearer {lee['token']}"}
    target = f"/api/supervisor/operators/{agent['operator']['id']}"
    with server.http() as http:
        missing_team = http.patch(target, json={"team_id": 999}, headers=lead)
        assert missing_team.status_code == 404 and "team 999 does not exist" in missing_team.text
        role = http.patch(target, json={"role": "admin"}, headers=lead)  # not a supervisor's to change
        assert role.status_code == 422 and "role" in role.text
        both = http.patch("/api/supervisor/teams/1/overflow", json={"close": True, "backup_team_id": 2},
                          headers=lead)
        assert both.status_code == 422 and "either backup_team_id" in both.text
        refused = http.patch(target, json={"capacity": 1},
                             headers={"Authorization": f"Bearer {agent['token']}"})
        assert refused.status_code == 403
