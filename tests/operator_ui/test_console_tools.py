"""The console's tools in a real browser: canned replies on "/", internal notes (visibly different,
never on the widget), tags, typing both ways, the "?" shortcut overlay, hand back and transfer."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import APIResponse, Page, Route, expect

from tests.engine.conftest import Server
from tests.operator_ui.conftest import Pages, add_canned, sign_in

pytestmark = pytest.mark.browser


def widget_asking_for_a_person(server: Server, pages: Pages, name: str = "Ann") -> Page:
    visitor = pages.open(f"{server.base_url}/demo")
    visitor.get_by_role("button", name="Chat with us").click()
    visitor.get_by_role("button", name="Talk to a person").click()
    expect(visitor.locator(".notice.waiting")).to_be_visible()
    return visitor


def test_canned_notes_tags_typing_and_shortcuts(server: Server, pages: Pages) -> None:
    add_canned(server, "thanks", "Thanks for waiting", "Thanks for waiting, I'm looking into it now.")
    kim = server.new_operator(name="Kim Lee")
    visitor = widget_asking_for_a_person(server, pages)
    console = pages.open(f"{server.base_url}/operator")
    sign_in(console, kim["operator"]["email"])
    console.locator(".row").first.click()
    expect(console.locator(".packet")).to_be_visible()

    # the visitor types: the console shows it
    visitor.get_by_label("Your message").type("still there?")
    expect(console.locator(".typing")).to_contain_text("Visitor is typing")

    composer = console.get_by_label("Reply to the visitor")
    composer.type("/tha")
    expect(visitor.locator(".typing")).to_contain_text("Someone from our team is typing")
    option = console.get_by_role("option", name="/thanks Thanks for waiting")
    expect(option).to_be_visible()
    composer.press("Enter")
    canned = "Thanks for waiting, I'm looking into it now."
    expect(composer).to_have_value(canned)
    composer.press("Enter")
    expect(visitor.locator(".msg.operator .text")).to_have_text(canned)

    secret = f"internal: check fraud list {uuid.uuid4().hex[:6]}"
    composer.press("Escape")
    console.keyboard.press("n")
    note = console.get_by_label("Internal note (never shown to the visitor)")
    expect(note).to_be_focused()
    note.fill(secret)
    note.press("Enter")
    internal = console.locator(".transcript .msg.internal")
    expect(internal).to_contain_text(secret)
    expect(internal.locator(".badge.note")).to_have_text("Internal note")
    background = "e => getComputedStyle(e).backgroundColor"
    reply = console.locator(".transcript .msg.operator").first
    assert internal.evaluate(background) != reply.evaluate(background)

    console.get_by_label("New tag").fill("damaged")
    console.get_by_label("New tag").press("Enter")
    expect(console.locator(".tags .chip")).to_have_text(["damaged×"])

    console.locator("body").click(position={"x": 5, "y": 400})
    console.keyboard.press("?")
    help_dialog = console.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_dialog).to_be_visible()
    expect(help_dialog).to_contain_text("Hand back to the bot")
    console.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()

    console.keyboard.press("b")  # hand back to the bot
    expect(console.locator(".conv-head .badge.state-bot")).to_be_visible()
    expect(visitor.locator(".notice")).to_be_hidden()
    visitor.reload()
    expect(visitor.locator(".msg.operator")).to_have_count(1)
    assert secret not in visitor.locator("#baton-widget").inner_text()


def test_every_field_has_a_label_and_messages_are_announced(server: Server, pages: Pages) -> None:
    kim = server.new_operator(name="Kim Lee")
    widget_asking_for_a_person(server, pages)
    console = pages.open(f"{server.base_url}/operator")
    sign_in(console, kim["operator"]["email"])
    console.locator(".row").first.click()
    expect(console.locator(".draft").first).to_be_visible()
    unlabelled = console.evaluate("""() => [...document.querySelectorAll('input, textarea, select')]
        .filter((e) => !e.labels?.length && !e.getAttribute('aria-label')).map((e) => e.outerHTML)""")
    assert unlabelled == []
    assert console.locator(".transcript").get_attribute("aria-live") == "polite"
    console.keyboard.press("Tab")
    outline = console.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"  # focus is visible


def test_widget_fills_a_phone_screen(server: Server, pages: Pages) -> None:
    visitor = pages.open(f"{server.base_url}/demo", viewport={"width": 390, "height": 844})
    visitor.get_by_role("button", name="Chat with us").click()
    panel = visitor.get_by_role("dialog", name="Chat with us")
    expect(panel).to_be_visible()
    box = panel.bounding_box()
    assert box is not None and box["width"] == 390 and box["height"] == 844
    visitor.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(visitor.get_by_role("button", name="Chat with us")).to_be_focused()


def test_transfer_to_a_colleague_moves_the_conversation_live(server: Server, pages: Pages) -> None:
    kim = server.new_operator(name="Kim Lee")
    joe = server.new_operator(name="Joe Park")
    widget_asking_for_a_person(server, pages)
    console = pages.open(f"{server.base_url}/operator")
    sign_in(console, kim["operator"]["email"])
    joes = pages.open(f"{server.base_url}/operator")  # a transfer goes only to someone available
    sign_in(joes, joe["operator"]["email"])
    expect(joes.locator("#connection")).to_have_text("Live")
    console.locator(".row").first.click()
    expect(console.locator(".conv-head")).to_contain_text("You own this")
    console.locator(".transcript").click()
    console.keyboard.press("t")
    dialog = console.get_by_role("dialog", name="Transfer conversation")
    expect(dialog).to_be_visible()
    dialog.get_by_label("To").select_option(label="Joe Park (online, 0/3 open)")
    dialog.get_by_label("Note for them").fill("Wants a refund for the lamp")
    dialog.get_by_role("button", name="Transfer").click()
    expect(console.locator(".conv-head")).to_contain_text("Owned by Joe Park")
    expect(console.locator("#count-mine")).to_have_text("0")
    expect(console.locator(".transcript .msg.internal")).to_contain_text("Wants a refund for the lamp")


def test_my_note_shows_once_when_its_event_comes_before_the_answer(server: Server, pages: Pages) -> None:
    """The engine stores the note and publishes it; the answer to the console's request is held back
    until the live event has drawn the stored note: the "Sending…" row must be gone by then."""
    kim = server.new_operator(name="Kim Lee")
    widget_asking_for_a_person(server, pages)
    console = pages.open(f"{server.base_url}/operator")
    sign_in(console, kim["operator"]["email"])
    console.locator(".row").first.click()
    expect(console.locator(".packet")).to_be_visible()
    held: list[tuple[Route, APIResponse]] = []
    console.route("**/note", lambda route: held.append((route, route.fetch())))
    console.keyboard.press("n")
    note = console.get_by_label("Internal note (never shown to the visitor)")
    note.fill("checked the courier's scan")
    note.press("Enter")
    stored = console.locator(".transcript .msg.internal[data-seq]")
    expect(stored).to_contain_text("checked the courier's scan")
    assert len(held) == 1  # the request's answer has not reached the page
    expect(console.locator(".transcript .msg.pending")).to_have_count(0)
    route, response = held[0]
    route.fulfill(response=response)
    expect(console.locator(".transcript .msg.internal")).to_have_count(1)
