"""The operator sees the visitor's rating in the conversation they resolved."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from tests.engine.conftest import Server
from tests.operator_ui.conftest import Pages, sign_in

pytestmark = pytest.mark.browser


def test_the_csat_score_shows_in_the_conversation(server: Server, pages: Pages) -> None:
    sam = server.new_operator(name="Sam Rivera")
    auth = {"Authorization": f"Bearer {sam['token']}"}
    visitor = server.start_visitor(name="Ann")
    conversation = visitor["conversation_id"]
    with server.http() as http:
        http.post(
            "/api/visitor/messages",
            headers={"Authorization": f"Bearer {visitor['token']}"},
            json={"text": "I want to talk to a person", "client_id": uuid.uuid4().hex},
        ).raise_for_status()
        http.post(f"/api/operator/conversations/{conversation}/claim", headers=auth).raise_for_status()
        http.post(f"/api/operator/conversations/{conversation}/resolve", headers=auth).raise_for_status()
        http.post(
            "/api/visitor/csat",
            headers={"Authorization": f"Bearer {visitor['token']}"},
            json={"score": 4, "comment": "quick and kind"},
        ).raise_for_status()
    console = pages.open(f"{server.base_url}/operator#/conversation/{conversation}")
    sign_in(console, sam["operator"]["email"])
    expect(console.locator(".conv-head .badge.csat")).to_have_text("CSAT 4/5 · “quick and kind”")
