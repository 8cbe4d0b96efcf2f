"""The admin page in Chromium: operators, teams and canned replies created, edited and refused with
the reason, every change audited and live on the other open pages (another admin's page, the
supervisor view) without a reload."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.engine.conftest import Server
from tests.operator_ui.conftest import Pages, sign_in

pytestmark = pytest.mark.browser


def admin_page(server: Server, pages: Pages, name: str) -> tuple[Page, dict]:
    account = server.new_operator(role="admin", name=name)
    page = pages.open(f"{server.base_url}/admin")
    sign_in(page, account["operator"]["email"])
    expect(page.locator("#connection")).to_have_text("Live")
    return page, account


def test_operators_invite_edit_refuse_and_live(server: Server, pages: Pages) -> None:
    page, _ = admin_page(server, pages, "Ada Admin")
    other, _ = admin_page(server, pages, "Otto Admin")
    supervisor = pages.open(f"{server.base_url}/supervisor")
    lead = server.new_operator(role="supervisor", name="Lee Lead")
    sign_in(supervisor, lead["operator"]["email"])

    invite = page.locator("#invite")
    invite.locator("[name=name]").fill("Greta Berg")
    invite.locator("[name=email]").fill("greta@example.com")
    invite.locator("[name=password]").fill("temporary-pass")
    invite.locator("[name=skills]").fill("lang:de, topic:billing")
    invite.locator("[name=capacity]").fill("2")
    invite.locator("button[type=submit]").click()
    row = page.locator("#operator-rows tr", has_text="Greta Berg")
    expect(row.get_by_label("Skills of Greta Berg")).to_have_value("lang:de, topic:billing")
    # the same email again: refused, and the page says why
    invite.locator("[name=name]").fill("Greta Again")
    invite.locator("[name=email]").fill("greta@example.com")
    invite.locator("[name=password]").fill("temporary-pass")
    invite.locator("button[type=submit]").click()
    expect(page.locator("#invite-error")).to_contain_text("already exists")

    supervisor.reload()
    expect(supervisor.locator("#operator-rows tr", has_text="Greta Berg")).to_contain_text("0 / 2")
    row.get_by_label("Capacity of Greta Berg").fill("5")
    row.get_by_role("button", name="Save").click()
    expect(page.locator("#audit")).to_contain_text("capacity 2 → 5")
    # live elsewhere: the supervisor view and the other admin's page, no reload
    expect(supervisor.locator("#operator-rows tr", has_text="Greta Berg")).to_contain_text("0 / 5")
    expect(other.get_by_label("Capacity of Greta Berg")).to_have_value("5")

    row = page.locator("#operator-rows tr", has_text="Greta Berg")
    row.get_by_label("Capacity of Greta Berg").fill("500")
    row.get_by_role("button", name="Save").click()
    expect(page.locator("#operator-error")).to_contain_text("capacity")
    expect(page.locator("#operator-error")).to_contain_text("100")
    row.get_by_label("Capacity of Greta Berg").fill("5")
    row.get_by_label("Skills of Greta Berg").fill("lang:de, not a skill!")
    row.get_by_role("button", name="Save").click()
    expect(page.locator("#operator-error")).to_contain_text("not a skill: not a skill!")

    row.get_by_label("Skills of Greta Berg").fill("lang:de")
    row.get_by_label("Role of Greta Berg").select_option("supervisor")
    row.get_by_label("Greta Berg is active").uncheck()
    row.get_by_role("button", name="Save").click()
    expect(page.locator("#audit")).to_contain_text("active true → false")
    expect(other.get_by_label("Greta Berg is active")).not_to_be_checked()
    with server.http() as http:  # deactivated: can no longer sign in
        refused = http.post(
            "/api/operator/login", json={"email": "greta@example.com", "password": "temporary-pass"}
        )
    assert refused.status_code == 401


def test_teams_overflow_and_validation(server: Server, pages: Pages) -> None:
    page, _ = admin_page(server, pages, "Ada Admin")

    def team_row(name: str):  # noqa: ANN202  (a Playwright locator)
        return page.locator("#team-rows tr").filter(
            has=page.locator("td:first-child", has_text=re.compile(f"^{name}$"))
        )

    for name, skills in (("Billing", "topic:billing"), ("Overflow", "")):
        form = page.locator("#new-team")
        form.locator("[name=name]").fill(name)
        form.locator("[name=skills]").fill(skills)
        form.locator("button[type=submit]").click()
        expect(team_row(name)).to_be_visible()
    row = team_row("Billing")
    row.get_by_label("Billing overflows to").select_option(label="Overflow")
    row.get_by_label("Billing overflows after seconds").fill("120")
    row.get_by_role("button", name="Save").click()
    expect(page.locator("#audit")).to_contain_text("overflow_after_seconds null → 120")
    row = team_row("Billing")
    overflow_id = team_row("Overflow").get_attribute("data-team-id")
    expect(row.get_by_label("Billing overflows to")).to_have_value(overflow_id or "")
    row.get_by_label("Billing overflows after seconds").fill("-5")
    row.get_by_role("button", name="Save").click()
    expect(page.locator("#team-error")).to_contain_text("overflow_after_seconds")


def test_canned_replies_create_edit_search(server: Server, pages: Pages) -> None:
    page, _ = admin_page(server, pages, "Ada Admin")
    form = page.locator("#new-canned")
    form.locator("[name=shortcut]").fill("/hello")
    form.locator("[name=title]").fill("Greeting")
    form.locator("[name=text]").fill("Hi {contact.nam}, how can I help?")
    form.locator("button[type=submit]").click()
    expect(page.locator("#canned-error")).to_contain_text("contact.nam")  # an unknown placeholder, named
    form.locator("[name=text]").fill("Hi {contact.name}, how can I help?")
    form.locator("button[type=submit]").click()
    expect(page.get_by_label("Text of /hello")).to_have_value("Hi {contact.name}, how can I help?")
    form.locator("[name=shortcut]").fill("/refund")
    form.locator("[name=title]").fill("Refund steps")
    form.locator("[name=text]").fill("Your refund for {order.number} is on its way.")
    form.locator("button[type=submit]").click()
    expect(page.locator("#canned-rows tr")).to_have_count(2)

    for query in ("/he", "ell", "/llo"):
        page.fill("#canned-search", query)
        expect(page.locator("#canned-rows tr")).to_have_count(1)
        expect(page.get_by_label("Shortcut of Greeting")).to_have_value("/hello")
    page.fill("#canned-search", "")
    expect(page.locator("#canned-rows tr")).to_have_count(2)

    page.get_by_label("Text of /hello").fill("Hello {contact.name}! {operator.name} here.")
    page.locator("#canned-rows tr", has=page.get_by_label("Text of /hello")).get_by_role(
        "button", name="Save"
    ).click()
    expect(page.locator("#audit")).to_contain_text("changed canned:")
    page.get_by_label("Text of /hello").fill("Hello {visitor}")
    page.locator("#canned-rows tr", has=page.get_by_label("Text of /hello")).get_by_role(
        "button", name="Save"
    ).click()
    expect(page.locator("#canned-error")).to_contain_text("visitor")


def test_an_operator_cannot_use_the_admin_page(server: Server, pages: Pages) -> None:
    agent = server.new_operator(name="Sam Rivera")
    page = pages.open(f"{server.base_url}/admin")
    sign_in(page, agent["operator"]["email"])
    expect(page.locator("#forbidden")).to_have_text("These settings need an admin account.")
    expect(page.locator("#operators")).to_be_hidden()
