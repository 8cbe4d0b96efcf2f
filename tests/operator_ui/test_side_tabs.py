"""The console's side column in Chromium, on a conversation with both the customer panel (a long
thread) and the account panel (the sample shop on a socket): one tab at a time, each scrolling on its
own, so the account and its actions are one click (or one arrow key) away on a laptop screen, and the
tab chosen stays chosen on the next conversation and after a reload."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.engine.actions.conftest import Shop
from tests.engine.conftest import Server
from tests.operator_ui.conftest import Pages, sign_in

pytestmark = pytest.mark.browser
# a customer who has said a lot: the thread is taller than the side column
LINES = [f"Message {n} about my order: the kettle is still not right." for n in range(1, 9)]


def waiting_customer(server: Server, name: str, email: str, order: str) -> int:
    """A visitor with a long thread who names an order and asks for a person (over the REST API)."""
    started = server.start_visitor(name=name, email=email)
    with server.http() as http:
        for text in [*LINES, f"Order {order}: I want a refund.", "Talk to a person"]:
            http.post("/api/visitor/messages", headers={"Authorization": f"Bearer {started['token']}"},
                      json={"text": text}).raise_for_status()
    return started["conversation_id"]


def selected(console: Page) -> list[str]:
    return [tab.get_attribute("aria-selected") or "" for tab in console.get_by_role("tab").all()]


def test_the_account_panel_and_its_action_are_one_tab_away_beside_a_long_thread(
        shop_server: Server, shop: Shop, pages: Pages) -> None:
    kim = shop_server.new_operator(name="Kim Lee", capacity=2)
    shop_server.new_operator(role="supervisor", name="Sue Park")  # who approves above Kim's limit
    first = waiting_customer(shop_server, "Dana Fox", "dana@example.org", "LG-20500")
    waiting_customer(shop_server, "Eli Shaw", "eli@example.org", "LG-20417")
    console = pages.open(f"{shop_server.base_url}/operator#/conversation/{first}")
    sign_in(console, kim["operator"]["email"])
    expect(console.locator(".conv-head h1")).to_have_text("Dana Fox")

    tablist = console.get_by_role("tablist", name="Beside the conversation")
    tabs = tablist.get_by_role("tab")
    expect(tabs).to_have_text([re.compile(r"^Drafts & tags"), "Customer", re.compile(r"^Account")])
    assert selected(console) == ["true", "false", "false"]  # a first sign-in starts on the drafts
    replies = console.get_by_label("Replies leave on")
    expect(replies).to_be_in_viewport()  # where the reply leaves stays in view on every tab

    # the customer's thread is taller than the column: it scrolls inside its panel, the tabs stay put
    tabs.nth(1).click()
    thread = console.get_by_role("tabpanel", name="Customer")
    expect(thread.locator(".timeline .entry.role-visitor")).to_have_count(len(LINES) + 2)
    expect(console.locator("#account")).to_be_hidden()
    scrolled = thread.evaluate("el => { el.scrollTop = el.scrollHeight; return el.scrollTop > 0 }")
    assert scrolled, "the thread fitted: the test needs it taller than the column"
    expect(tablist).to_be_in_viewport()
    expect(thread.get_by_label("Merge another contact into this customer")).to_be_in_viewport()

    # the arrow keys move between the tabs (the WAI-ARIA tabs pattern) and show each at once
    tabs.nth(1).focus()
    console.keyboard.press("ArrowRight")
    expect(tabs.nth(2)).to_be_focused()
    assert selected(console) == ["false", "false", "true"]
    account = console.get_by_role("tabpanel", name="Account")
    expect(account.locator(".order[data-order='LG-20500'] .order-status")).to_have_text("delivered")
    expect(thread).to_be_hidden()
    console.keyboard.press("Home")
    assert selected(console) == ["true", "false", "false"]
    console.keyboard.press("ArrowLeft")  # from the first, round to the last
    expect(tabs.nth(2)).to_be_focused()
    expect(tabs.nth(2)).to_have_attribute("tabindex", "0")
    expect(tabs.nth(0)).to_have_attribute("tabindex", "-1")  # one Tab stop for the whole tablist

    # the action is in view at once: no scrolling of the page or the column to reach it
    take = account.locator("#action-box summary")
    expect(take).to_be_in_viewport()
    take.click()
    console.select_option("#action-kind", "refund")
    console.select_option("#action-order", "LG-20500")
    console.fill("#action-amount", "24")
    console.fill("#action-reason", "Mug set chipped in transit")
    account.locator("#action-submit").scroll_into_view_if_needed()
    expect(account.locator("#action-submit")).to_be_in_viewport()
    account.locator("#action-submit").click()
    expect(account.locator(".action-result")).to_contain_text(re.compile(r"Done: Refund £24\.00 on LG-20500"))
    expect(account.locator(".order[data-order='LG-20500']")).to_contain_text("refunded £24.00")
    assert [a["amount"] for a in shop.recorded()] == ["24.00"]

    # above the limit: the request waits, and the tab counts it for whoever looks from another tab
    account.locator("#action-box summary").click()
    console.fill("#action-amount", "80")
    console.fill("#action-reason", "The kettle itself is dented too")
    account.locator("#action-submit").click()
    expect(account.locator(".audit-item.status-awaiting_approval")).to_have_count(1)
    expect(tabs.nth(2).locator(".count")).to_have_text("1")

    # the choice is kept: the next conversation opens on the Account tab, and so does a reload
    console.locator(".row", has_text="Eli Shaw").click()
    expect(console.locator(".conv-head h1")).to_have_text("Eli Shaw")
    assert selected(console) == ["false", "false", "true"]
    expect(account.locator(".order[data-order='LG-20417']")).to_be_visible()
    expect(tabs.nth(2).locator(".count")).to_be_hidden()  # nothing waits in Eli's
    console.reload()
    expect(console.locator(".conv-head h1")).to_have_text("Eli Shaw")
    expect(console.get_by_role("tabpanel", name="Account").locator("#action-box summary")).to_be_in_viewport()
    assert selected(console) == ["false", "false", "true"]


def test_on_a_narrow_laptop_window_the_conversation_keeps_the_height_and_the_side_follows_below(
        server: Server, pages: Pages) -> None:
    """Below 1,100 px the side column goes under the conversation: the transcript keeps the window's
    height (squeezed beside the side column it had a few lines) and the side is a scroll away, the
    list staying where it is."""
    kim = server.new_operator(name="Kim Lee", capacity=2)
    first = waiting_customer(server, "Dana Fox", "dana@example.org", "LG-20500")
    console = pages.open(f"{server.base_url}/operator#/conversation/{first}",
                         viewport={"width": 900, "height": 800})
    sign_in(console, kim["operator"]["email"])
    expect(console.locator(".conv-head h1")).to_have_text("Dana Fox")
    transcript = console.locator(".transcript").bounding_box()
    assert transcript is not None and transcript["height"] > 300, transcript
    expect(console.get_by_label("Reply to the visitor")).to_be_in_viewport()
    tabs = console.get_by_role("tablist", name="Beside the conversation")
    expect(tabs).not_to_be_in_viewport()
    tabs.get_by_role("tab", name="Customer").scroll_into_view_if_needed()
    expect(tabs).to_be_in_viewport()
    expect(console.locator(".inbox .row").first).to_be_in_viewport()  # the list did not scroll away
