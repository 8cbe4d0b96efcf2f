"""The console shows what a draft is worth and why the bot handed over, in a real browser: each
draft's confidence and sources, a warning on an answer the bot judged too weak to send, and the
packet's weak-answer reason by its answer confidence (never an inverted "score")."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.engine.conftest import Server
from tests.operator_ui.conftest import Pages, sign_in

pytestmark = pytest.mark.browser


def test_weak_answer_draft_is_marked_and_the_packet_reads_one_way(server: Server, pages: Pages) -> None:
    started = server.start_visitor(name="Ann")
    with server.http() as http:
        sent = http.post("/api/visitor/messages", json={"text": "do you sell garden furniture?"},
                         headers={"Authorization": f"Bearer {started['token']}"})
    sent.raise_for_status()
    assert [m["role"] for m in sent.json()["replies"]][0] == "system"  # the bot handed over
    kim = server.new_operator(name="Kim Lee")
    console = pages.open(f"{server.base_url}/operator")
    sign_in(console, kim["operator"]["email"])
    console.locator(".row").first.click()

    packet = console.locator(".packet")
    expect(packet).to_contain_text("No good answer in the knowledge base")
    expect(packet).to_contain_text(re.compile(r"answer confidence 0\.\d\d"))
    expect(packet).not_to_contain_text("score")
    expect(packet).to_contain_text("do you sell garden furniture?")

    answer = console.locator(".draft").filter(has_text="From the knowledge base")
    expect(answer.locator(".draft-weak")).to_contain_text("too weak to send")
    expect(answer.locator(".conf")).to_have_text(re.compile(r"confidence 0\.\d\d"))
    expect(answer.locator(".cites li").first).to_be_visible()  # its source, named
