"""The supervisor view in a real browser: the queue and operators update live, today's metrics and
the handoff charts come from /api/metrics."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from tests.engine.conftest import Server
from tests.operator_ui.conftest import Pages, sign_in

pytestmark = pytest.mark.browser


def test_queue_and_operators_update_live(server: Server, pages: Pages) -> None:
    lead = server.new_operator(role="admin", name="Lee Lead")
    supervisor = pages.open(f"{server.base_url}/supervisor")
    sign_in(supervisor, lead["operator"]["email"])
    expect(supervisor.locator("#queue-count")).to_have_text("0")
    expect(supervisor.locator(".kpi").first).to_contain_text("Conversations")

    conversation = server.start_visitor(name="Ann")
    ask = {"text": "I want to talk to a person", "client_id": uuid.uuid4().hex}
    with server.http() as http:
        http.post("/api/visitor/messages", headers={"Authorization": f"Bearer {conversation['token']}"},
                  json=ask).raise_for_status()
    expect(supervisor.locator("#queue-count")).to_have_text("1")  # no reload: the socket told it
    row = supervisor.locator("#queue-rows tr").first
    expect(row).to_contain_text("Ann")
    expect(row).to_contain_text("Asked for a person")

    sam = server.new_operator(name="Sam Rivera")
    with server.http() as http:
        http.post("/api/operator/presence", json={"status": "online"},
                  headers={"Authorization": f"Bearer {sam['token']}"}).raise_for_status()
    operator_row = supervisor.locator("#operator-rows tr", has_text="Sam Rivera")
    expect(operator_row).to_contain_text("online")
    expect(operator_row).to_contain_text("1 / 3")  # routing gave Ann to Sam
    expect(supervisor.locator("#queue-count")).to_have_text("0")
    supervisor.reload()
    expect(supervisor.locator(".kpi", has_text="Handoff rate")).to_contain_text("100%")
    chart = supervisor.get_by_role("img", name="Handoffs by reason today: Asked for a person 1 (100%)")
    expect(chart).to_be_visible()
    expect(supervisor.locator("#reasons-week .legend")).to_contain_text("Asked for a person")
    expect(supervisor.locator("#reasons-week svg rect").first).to_be_visible()
