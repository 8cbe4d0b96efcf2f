"""Account context and actions in a real browser, against the real sample shop on a socket: the
operator sees the visitor's order beside the conversation and the AI draft quoting its real status,
refunds within the limit (a double click performs it once) and tells the visitor, asks for more
than the limit and a supervisor approves it in their console; the audit and the report show both.
And when the shop is down the console says so and the operator carries on."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.engine.actions.conftest import Shop
from tests.engine.conftest import Server
from tests.operator_ui.conftest import Pages, sign_in

pytestmark = pytest.mark.browser
KETTLE = "My copper kettle arrived dented, order LG-20500. I want a refund."


def visitor_with_kettle(server: Server, pages: Pages) -> Page:
    """A widget visitor who asks for a person, then says what is wrong and gives the order number."""
    visitor = pages.open(f"{server.base_url}/demo")
    visitor.get_by_role("button", name="Chat with us").click()
    visitor.get_by_role("button", name="Talk to a person").click()
    expect(visitor.locator(".notice.waiting")).to_be_visible()
    box = visitor.get_by_label("Your message")
    box.fill(KETTLE)
    box.press("Enter")
    expect(visitor.locator(".msg.visitor", has_text="LG-20500")).to_contain_text("Sent")
    return visitor


def open_conversation(server: Server, pages: Pages, email: str) -> Page:
    """The console with the first conversation open and the side column on its Account tab."""
    console = pages.open(f"{server.base_url}/operator")
    sign_in(console, email)
    console.locator(".row").first.click()
    expect(console.locator(".packet")).to_be_visible()
    console.get_by_role("tab", name="Account").click()
    return console


def test_lookup_refund_within_limit_approval_above_it_audit_and_report(
    shop_server: Server, shop: Shop, pages: Pages
) -> None:
    kim = shop_server.new_operator(name="Kim Lee")
    sue = shop_server.new_operator(role="supervisor", name="Sue Park")
    visitor = visitor_with_kettle(shop_server, pages)
    console = open_conversation(shop_server, pages, kim["operator"]["email"])

    account = console.locator("#account")
    expect(account.locator(".account-status")).to_contain_text("Found by order LG-20500")
    order = account.locator(".order[data-order='LG-20500']")
    expect(order.locator(".order-status")).to_have_text("delivered")
    expect(order.locator(".order-items")).to_have_text("Copper kettle, Stoneware mug set")
    suggestion = account.locator(".suggestion")
    expect(suggestion).to_contain_text("Refund £89.00 on LG-20500")
    expect(suggestion.locator(".evidence")).to_contain_text(
        "Visitor: “My copper kettle arrived dented, order LG-20500.”"
    )
    # the AI draft quotes the order as the shop has it, not a placeholder
    draft = console.locator(".draft", has=console.locator(".badge", has_text="Order status"))
    expect(draft.locator(".text")).to_contain_text(
        re.compile(
            r"Your order LG-20500 \(Copper kettle, Stoneware mug set\) was delivered on \w+day \d+ \w+\."
        )
    )

    # within the limit: done at once, recorded by the shop once although clicked twice
    console.locator("#action-box summary").click()
    console.select_option("#action-kind", "refund")
    console.select_option("#action-order", "LG-20500")
    console.fill("#action-amount", "24")
    console.fill("#action-reason", "Mug set chipped in transit")
    expect(console.locator("#action-hint")).to_have_text("Your limit without approval: £50.00.")
    console.locator("#action-submit").dblclick()
    expect(account.locator(".action-result")).to_contain_text(
        re.compile(r"Done: Refund £24\.00 on LG-20500 \(REF-\d+\)")
    )
    expect(order).to_contain_text("refunded £24.00")
    expect(order.locator(".order-status")).to_have_text("partially refunded")
    assert [(a["amount"], a["requested_by"]) for a in shop.recorded()] == [
        ("24.00", kim["operator"]["email"])
    ]
    expect(console.locator(".transcript .msg.internal").last).to_contain_text(
        "Done: Refund of £24.00 on LG-20500"
    )

    # the visitor is told only when the operator chooses, in their words
    account.locator(".audit-item.status-completed .tell").click()
    composer = console.get_by_label("Reply to the visitor")
    expect(composer).to_have_value(re.compile(r"^I've refunded £24\.00 for order LG-20500"))
    composer.press("Enter")
    expect(visitor.locator(".msg.operator .text")).to_contain_text("I've refunded £24.00 for order LG-20500")
    # the widget has every message up to the operator's reply, and no internal note among them
    expect(visitor.locator(".msg", has_text="Refund of £24.00")).to_have_count(0)

    # over the limit: the suggestion, reviewed, asks for approval and names who can give it
    suggestion.locator("button.review").click()
    expect(console.locator("#action-amount")).to_have_value("89")
    expect(console.locator("#action-hint")).to_contain_text("Over your limit of £50.00")
    console.locator("#action-submit").click()
    expect(account.locator(".action-result")).to_have_text(
        "Over your limit, so not done: Refund £89.00 on LG-20500 waits for approval. Ask Sue Park."
    )
    assert len(shop.recorded()) == 1
    waiting = account.locator(".audit-item.status-awaiting_approval")
    expect(waiting).to_contain_text("Approvers: Sue Park")
    expect(waiting.locator("button.approve")).to_have_count(0)  # not Kim's to approve

    supervisor = pages.open(f"{shop_server.base_url}/operator")
    sign_in(supervisor, sue["operator"]["email"])
    expect(supervisor.locator("#me-name")).to_have_text("Sue Park")
    supervisor.locator(".tab[data-tab='all']").click()
    supervisor.locator(".row").first.click()
    waiting_tab = supervisor.get_by_role("tab", name="Account")
    expect(waiting_tab.locator(".count")).to_have_text("1")  # an action waits for her in that tab
    waiting_tab.click()
    supervisor.locator("#account .audit-item.status-awaiting_approval button.approve").click()
    expect(supervisor.locator("#account .audit-item").first).to_contain_text("approved by Sue Park")
    expect(account.locator(".audit-item").first.locator(".action-status")).to_have_text(
        "Done"
    )  # live in Kim's
    recorded = shop.recorded()
    assert [(a["amount"], a["approved_by"]) for a in recorded] == [
        ("24.00", None),
        ("89.00", sue["operator"]["email"]),
    ]
    expect(order).to_contain_text("refunded £113.00")  # the order as the shop has it now

    report = pages.open(f"{shop_server.base_url}/supervisor")
    sign_in(report, sue["operator"]["email"])
    tile = report.locator(".kpi", has=report.locator(".kpi-label", has_text="Account actions"))
    expect(tile.locator(".kpi-value")).to_have_text("2")
    expect(tile.locator(".kpi-detail")).to_have_text("£113.00 done · 1 needed approval")
    rows = report.locator("#actions-audit tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Refund on LG-20500")
    expect(rows.first).to_contain_text("£89.00")
    expect(rows.first).to_contain_text("Sue Park")
    expect(rows.nth(1)).to_contain_text("Kim Lee")


def test_shop_down_the_console_says_so_and_the_operator_carries_on(
    shop_server: Server, shop: Shop, pages: Pages
) -> None:
    kim = shop_server.new_operator(name="Kim Lee")
    visitor = visitor_with_kettle(shop_server, pages)
    shop.stop()
    console = open_conversation(shop_server, pages, kim["operator"]["email"])
    problem = console.locator("#account .account-status.problem")
    expect(problem).to_contain_text("The shop system is not answering: the account system is unreachable")
    composer = console.get_by_label("Reply to the visitor")
    composer.fill("Our order system is slow right now; I'm on it.")
    composer.press("Enter")
    expect(visitor.locator(".msg.operator .text")).to_have_text(
        "Our order system is slow right now; I'm on it."
    )

    shop.start()
    problem.get_by_role("button", name="Try again").click()
    expect(console.locator("#account .order[data-order='LG-20500'] .order-status")).to_have_text("delivered")
