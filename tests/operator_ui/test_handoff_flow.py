"""The whole handoff in a real browser: a visitor on the widget asks for a person, the operator
sees the conversation arrive with its packet, inserts a draft, edits and sends it, and the visitor
sees it live; the visitor's next question is drafted for in the console that has it open. Text with
markup stays text on both pages, and a reload on either side loses nothing.
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, expect

from tests.engine.conftest import Server
from tests.operator_ui.conftest import Pages, sign_in

pytestmark = pytest.mark.browser
MARKUP = "Is my order late? <script>window.__pwned = true</script><img src=x onerror=window.__pwned=true>"


def no_injection(page: Page, within: str) -> None:
    """The markup a visitor typed made no element and ran nothing."""
    assert page.locator(f"{within} script, {within} img").count() == 0
    assert page.evaluate("window.__pwned === undefined")


def test_visitor_asks_for_a_person_and_gets_an_edited_draft_live(server: Server, pages: Pages) -> None:
    sam = server.new_operator(name="Sam Rivera")
    visitor = pages.open(f"{server.base_url}/demo")
    visitor.get_by_role("button", name="Chat with us").click()
    visitor.get_by_label("Your message").fill("How long does shipping take?")
    visitor.keyboard.press("Enter")
    answer = visitor.locator(".msg.bot").first
    expect(answer).to_contain_text("business days")
    expect(answer.locator(".sources a")).to_have_attribute("href", "https://help.example.com/shipping")

    visitor.get_by_role("button", name="Talk to a person").click()
    expect(visitor.locator(".notice.waiting")).to_contain_text("number 1 in line")
    expect(visitor.locator(".msg.system").first).to_contain_text("person")  # then where they stand
    visitor.get_by_label("Your message").fill(MARKUP)  # while queued: the bot stays silent
    visitor.keyboard.press("Enter")
    expect(visitor.locator(".msg.visitor .text").nth(2)).to_have_text(MARKUP)
    expect(visitor.locator(".msg.visitor.pending")).to_have_count(0)

    console = pages.open(f"{server.base_url}/operator")
    sign_in(console, sam["operator"]["email"])  # signing in goes online: routing assigns it to Sam
    row = console.locator(".row").first
    expect(row).to_contain_text("Asked for a person")
    row.click()
    expect(console.locator(".packet")).to_contain_text("Asked for a person")
    expect(console.locator(".transcript .msg.bot").first.locator(".badge.bot")).to_have_text("Bot")
    expect(console.locator(".transcript .msg.visitor .text").nth(2)).to_have_text(MARKUP)
    expect(visitor.locator(".notice.assigned")).to_be_visible()
    expect(visitor.locator(".msg.visitor .meta").last).to_contain_text("Seen")  # the operator read it

    console.locator(".draft button.insert").first.click()
    composer = console.get_by_label("Reply to the visitor")
    expect(composer).not_to_have_value("")
    expect(console.locator(".draft-note")).to_contain_text("AI draft")
    composer.press("End")
    composer.type(" I'm Sam, and I'll stay with you until it's sorted.")
    sent = composer.input_value().strip()
    composer.press("Enter")
    expect(composer).to_have_value("")
    expect(visitor.locator(".msg.operator .text")).to_have_text(sent)
    expect(console.locator(".transcript .msg.operator .text")).to_have_text(sent)
    no_injection(visitor, "#baton-widget")
    no_injection(console, ".transcript")

    # Sam owns it now: the visitor's next question is drafted for because Sam's console has it open
    visitor.get_by_label("Your message").fill("Also, how do I reset my password?")
    visitor.keyboard.press("Enter")
    expect(console.locator(".draft .text").first).to_contain_text("Forgot password")

    # a reload on either side loses nothing and doubles nothing
    widget_before = visitor.locator(".messages .msg .text").all_inner_texts()
    visitor.reload()
    expect(visitor.locator(".msg.operator .text")).to_have_text(sent)
    expect(visitor.locator(".messages .msg .text")).to_have_text(widget_before)
    expect(visitor.locator(".notice.assigned")).to_be_visible()

    console.get_by_label("Reply to the visitor").fill("Half-written answer")
    transcript_before = console.locator(".transcript .msg").count()
    console.reload()
    expect(console.locator(".transcript .msg")).to_have_count(transcript_before)
    expect(console.get_by_label("Reply to the visitor")).to_have_value("Half-written answer")
    no_injection(console, ".transcript")


def test_unacknowledged_messages_are_sent_again_once(server: Server, pages: Pages) -> None:
    """A reload between sending and the engine's ack: the widget resends what it kept, and the engine
    stores each client id once, so nothing is lost and nothing appears twice."""
    conversation = server.start_visitor()
    auth = {"Authorization": f"Bearer {conversation['token']}"}
    with server.http() as http:
        http.post("/api/visitor/messages", headers=auth,
                  json={"text": "stored, but the ack was lost", "client_id": "c-1"}).raise_for_status()
    kept = {"token": conversation["token"], "open": True, "pending": [
        {"client_id": "c-1", "text": "stored, but the ack was lost"},
        {"client_id": "c-2", "text": "never reached the engine"}]}
    script = f"localStorage.setItem('baton.widget:' + location.origin, {json.dumps(json.dumps(kept))})"
    visitor = pages.open(f"{server.base_url}/demo", init_script=script)
    mine = visitor.locator(".msg.visitor .text")
    expect(mine).to_have_text(["stored, but the ack was lost", "never reached the engine"])
    expect(visitor.locator(".msg.visitor.pending")).to_have_count(0)
    with server.http() as http:
        stored = http.get("/api/visitor/messages", headers=auth).json()["messages"]
    assert [m["client_id"] for m in stored if m["role"] == "visitor"] == ["c-1", "c-2"]
    saved = visitor.evaluate("localStorage.getItem('baton.widget:' + location.origin)")
    assert json.loads(saved)["pending"] == []
