"""The widget on someone else's site: one script tag on a page of another origin is enough, and it
talks to the engine it was loaded from. At the end of a conversation it asks for a rating."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.engine.conftest import Server
from tests.operator_ui.conftest import Pages

pytestmark = pytest.mark.browser


@pytest.fixture
def shop(server: Server, tmp_path: Path) -> Iterator[str]:
    """Another site (its own origin: localhost on another port) whose page has the one script tag.
    Both are on loopback: Chromium refuses a public page's requests to loopback addresses."""
    (tmp_path / "index.html").write_text(
        "<!doctype html><html lang=en><title>Another shop</title><h1>Another shop</h1>"
        f'<script src="{server.base_url}/widget.js" defer></script></html>')
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    site = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{site.server_address[1]}/"
    site.shutdown()
    site.server_close()


def test_one_script_tag_on_another_site_and_csat_at_the_end(server: Server, shop: str, pages: Pages) -> None:
    visitor = pages.open(shop)
    visitor.get_by_role("button", name="Chat with us").click()
    visitor.get_by_label("Your message").fill("How do I reset my password?")
    visitor.keyboard.press("Enter")
    expect(visitor.locator(".msg.bot").first).to_contain_text("Forgot password")
    visitor.get_by_role("button", name="Talk to a person").click()
    expect(visitor.locator(".notice.waiting")).to_be_visible()

    kim = server.new_operator(name="Kim Lee")
    auth = {"Authorization": f"Bearer {kim['token']}"}
    with server.http() as http:
        queued = http.get("/api/operator/conversations?state=queued", headers=auth).json()
        conversation_id = queued[0]["conversation"]["id"]
        http.post(f"/api/operator/conversations/{conversation_id}/reply", headers=auth,
                  json={"text": "I've sent you a fresh reset link."}).raise_for_status()
        expect(visitor.locator(".msg.operator .text")).to_have_text("I've sent you a fresh reset link.")
        http.post(f"/api/operator/conversations/{conversation_id}/resolve", headers=auth).raise_for_status()
        rating = visitor.get_by_role("group", name="How did we do?")
        expect(rating).to_be_visible()
        rating.get_by_role("button", name="5 of 5: Great").click()
        visitor.get_by_label("Comment").fill("Quick and kind")
        visitor.get_by_role("button", name="Send rating").click()
        expect(visitor.get_by_text("Thank you for your rating!")).to_be_visible()
        detail = http.get(f"/api/operator/conversations/{conversation_id}", headers=auth).json()
    assert detail["conversation"]["csat_score"] == 5
    assert detail["conversation"]["csat_comment"] == "Quick and kind"
    visitor.reload()  # rated once: not asked again
    expect(visitor.locator(".notice.closed")).to_be_visible()
    expect(visitor.get_by_role("group", name="How did we do?")).to_have_count(0)
