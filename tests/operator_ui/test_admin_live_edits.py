"""The admin page in Chromium keeps what an admin is typing through live redraws: another admin's
change to a different row and to the same row arrives (roster.updated), the page redraws, and the
unsaved input keeps its text, focus and caret while everything else shows the new stored values;
Save sends only the fields this admin changed, and afterwards the row shows what the engine stored.
Each redraw is proven by waiting on a value only the redraw can show, never by sleeping."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.engine.conftest import Server
from tests.operator_ui.conftest import Pages
from tests.operator_ui.test_admin import admin_page

pytestmark = pytest.mark.browser


class OtherAdmin:
    """A second admin working through the REST API while the page is open."""

    def __init__(self, server: Server) -> None:
        self.server = server
        token = server.new_operator(role="admin", name="Otto Admin")["token"]
        self.auth = {"Authorization": f"Bearer {token}"}

    def send(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        with self.server.http() as http:
            response = http.request(method, path, json=body, headers=self.auth)
        response.raise_for_status()
        return response.json()


def caret(page: Page, label: str) -> list[int]:
    return page.get_by_label(label, exact=True).evaluate("(el) => [el.selectionStart, el.selectionEnd]")


def test_typing_in_a_canned_reply_survives_another_admins_changes(server: Server, pages: Pages) -> None:
    otto = OtherAdmin(server)
    hello = otto.send("POST", "/api/admin/canned", {"shortcut": "/hello", "title": "Greeting",
                                                    "text": "Hi {contact.name}, how can I help?"})
    refund = otto.send("POST", "/api/admin/canned", {"shortcut": "/refund", "title": "Refund steps",
                                                     "text": "Your refund for {order.number} is on its way."})
    page, _ = admin_page(server, pages, "Ada Admin")
    text = page.get_by_label("Text of /hello")
    expect(text).to_have_value("Hi {contact.name}, how can I help?")

    text.click()
    page.keyboard.press("ControlOrMeta+End")
    page.keyboard.type(" Back in a minute.")
    page.keyboard.press("ControlOrMeta+Home")  # the caret at the start: a redraw must leave it there
    typed = "Hi {contact.name}, how can I help? Back in a minute."
    expect(text).to_have_value(typed)

    otto.send("PATCH", f"/api/admin/canned/{hello['id']}", {"title": "Hello there"})  # same row
    otto.send("PATCH", f"/api/admin/canned/{hello['id']}", {"text": "Otto's greeting"})  # same field
    otto.send("PATCH", f"/api/admin/canned/{refund['id']}", {"text": "Refunds take 5 days."})  # another row
    expect(page.get_by_label("Text of /refund")).to_have_value("Refunds take 5 days.")  # the redraw ran
    expect(page.get_by_label("Title of /hello")).to_have_value("Hello there")  # untouched: live
    expect(text).to_have_value(typed)  # typed: kept, with focus and caret
    expect(text).to_be_focused()
    assert caret(page, "Text of /hello") == [0, 0]
    expect(text).to_have_class("changed-elsewhere")  # Otto saved this field meanwhile: said
    expect(text).to_have_accessible_description(
        "Someone else saved \"Otto's greeting\" here while you were editing; Save keeps yours.")
    page.keyboard.type("Sorry! ")  # the keys still go where the caret was
    mine = "Sorry! " + typed
    expect(text).to_have_value(mine)

    page.locator("#canned-rows tr", has=text).get_by_role("button", name="Save").click()
    expect(page.locator("#audit")).to_contain_text(f'text "Otto\'s greeting" → "{mine}"')
    stored = next(c for c in otto.send("GET", "/api/admin/canned") if c["id"] == hello["id"])
    assert (stored["title"], stored["text"]) == ("Hello there", mine)  # only the text was sent
    expect(text).to_have_value(mine)
    expect(text).not_to_have_class("changed-elsewhere")
    expect(text).to_have_accessible_description("")
    # saved, so no longer kept: the next change of this row by someone else shows at once
    otto.send("PATCH", f"/api/admin/canned/{hello['id']}", {"text": "Otto again"})
    expect(text).to_have_value("Otto again")
    # focused but not typed in yet: the field shows the new stored value and keeps the focus
    page.get_by_label("Title of /refund").click()
    otto.send("PATCH", f"/api/admin/canned/{refund['id']}", {"title": "Refunds"})
    expect(page.get_by_label("Shortcut of Refunds")).to_be_visible()  # the redraw ran
    expect(page.get_by_label("Title of /refund")).to_have_value("Refunds")
    expect(page.get_by_label("Title of /refund")).to_be_focused()
    page.keyboard.press("End")
    page.keyboard.type(" and returns")
    expect(page.get_by_label("Title of /refund")).to_have_value("Refunds and returns")


def test_every_editable_list_keeps_unsaved_edits(server: Server, pages: Pages) -> None:
    otto = OtherAdmin(server)
    billing = otto.send("POST", "/api/admin/teams", {"name": "Billing", "skills": ["topic:billing"]})
    spare = otto.send("POST", "/api/admin/teams", {"name": "Spare", "skills": []})
    greta = otto.send("POST", "/api/admin/operators", {"name": "Greta Berg", "email": "greta@example.com",
                                                       "password": "temporary-pass", "capacity": 2})
    hugo = otto.send("POST", "/api/admin/operators", {"name": "Hugo Hall", "email": "hugo@example.com",
                                                      "password": "temporary-pass", "capacity": 2})
    page, _ = admin_page(server, pages, "Ada Admin")
    handoff = page.locator("#handoff-form")
    expect(handoff.locator("[name='frustration.offer_at']")).to_have_value("0.45")

    # Ada edits one row of each list and saves none of them
    page.get_by_label("Skills of Greta Berg").fill("Topic:Billing, lang:DE")
    page.get_by_label("Billing overflows after seconds").fill("90")
    page.get_by_label("Billing opens on Mon", exact=True).fill("09:00")
    page.get_by_label("Billing closes on Mon", exact=True).fill("12:00")
    page.get_by_label("Add hours to Billing on Mon").click()  # a row added: the day's structure changed
    page.get_by_label("Billing opens on Mon (2)").fill("13:00")
    page.get_by_label("Billing closes on Mon (2)").fill("17:00")
    handoff.locator("[name=topics]").fill("legal")

    # Otto changes another row of each list and another field of Ada's rows
    otto.send("PATCH", f"/api/admin/operators/{greta['id']}", {"capacity": 4})
    otto.send("PATCH", f"/api/admin/operators/{hugo['id']}", {"capacity": 7})
    otto.send("PATCH", f"/api/admin/teams/{billing['id']}", {"skills": ["topic:invoices"]})
    otto.send("PATCH", f"/api/admin/teams/{spare['id']}", {"overflow_after_seconds": 300})
    otto.send("PUT", f"/api/admin/teams/{billing['id']}/hours", {
        "timezone": "Europe/Berlin", "weekly": [{"day": "tue", "opens": "08:00", "closes": "16:00"}]})
    otto.send("PUT", f"/api/admin/teams/{spare['id']}/hours", {"timezone": "Asia/Tokyo", "weekly": []})
    settings = otto.send("GET", "/api/admin/handoff")
    settings.pop("saved_to", None)
    otto.send("PUT", "/api/admin/handoff", {**settings, "frustration": {"offer_at": 0.5, "escalate_at": 0.8}})

    # the redraw ran: other rows, and the untouched fields of Ada's rows, show Otto's values
    expect(page.get_by_label("Capacity of Hugo Hall")).to_have_value("7")
    expect(page.get_by_label("Capacity of Greta Berg")).to_have_value("4")
    expect(page.get_by_label("Spare overflows after seconds")).to_have_value("300")
    expect(page.get_by_label("Skills of Billing")).to_have_value("topic:invoices")
    expect(page.get_by_label("Time zone of Spare")).to_have_value("Asia/Tokyo")
    expect(page.get_by_label("Time zone of Billing")).to_have_value("Europe/Berlin")
    expect(page.get_by_label("Billing opens on Tue", exact=True)).to_have_value("08:00")
    expect(handoff.locator("[name='frustration.offer_at']")).to_have_value("0.5")
    # and what Ada typed is all still there
    expect(page.get_by_label("Skills of Greta Berg")).to_have_value("Topic:Billing, lang:DE")
    expect(page.get_by_label("Billing overflows after seconds")).to_have_value("90")
    expect(page.get_by_label("Billing opens on Mon", exact=True)).to_have_value("09:00")
    expect(page.get_by_label("Billing closes on Mon (2)")).to_have_value("17:00")
    expect(handoff.locator("[name=topics]")).to_have_value("legal")
    expect(handoff.locator("[name=topics]")).to_be_focused()

    # saved: each row shows what the engine stored (skills normalised), and Otto's fields survive
    page.locator("#operator-rows tr", has_text="Greta Berg").get_by_role("button", name="Save").click()
    expect(page.get_by_label("Skills of Greta Berg")).to_have_value("lang:de, topic:billing")
    page.locator("#team-rows tr", has=page.get_by_label("Billing overflows to")).get_by_role(
        "button", name="Save").click()
    expect(page.locator("#audit")).to_contain_text("overflow_after_seconds null → 90")
    hours_form = page.locator(f".hours-form[data-team-id='{billing['id']}']")
    hours_form.get_by_role("button", name="Save hours").click()
    expect(page.locator("#audit")).to_contain_text('"opens":"13:00"')
    handoff.get_by_role("button", name="Save handoff settings").click()
    expect(page.locator("#audit")).to_contain_text("changed handoff:settings")

    operators = {o["id"]: o for o in otto.send("GET", "/api/admin/operators")}
    assert (operators[greta["id"]]["skills"], operators[greta["id"]]["capacity"]) == (
        ["lang:de", "topic:billing"], 4)
    teams = {t["id"]: t for t in otto.send("GET", "/api/admin/teams")}
    assert (teams[billing["id"]]["skills"], teams[billing["id"]]["overflow_after_seconds"]) == (
        ["topic:invoices"], 90)
    hours = otto.send("GET", f"/api/admin/teams/{billing['id']}/hours")["team"]
    assert hours["timezone"] == "Europe/Berlin"
    assert sorted((o["day"], o["opens"], o["closes"]) for o in hours["hours"]) == [
        ("mon", "09:00", "12:00"), ("mon", "13:00", "17:00"), ("tue", "08:00", "16:00")]
    saved = otto.send("GET", "/api/admin/handoff")
    assert (saved["always_human_topics"], saved["frustration"]["offer_at"]) == (["legal"], 0.5)


def test_a_row_being_edited_stays_when_it_no_longer_matches_the_search(server: Server, pages: Pages) -> None:
    otto = OtherAdmin(server)
    hello = otto.send("POST", "/api/admin/canned", {"shortcut": "/hello", "title": "Greeting", "text": "Hi!"})
    helps = otto.send("POST", "/api/admin/canned", {"shortcut": "/help", "title": "Help", "text": "Help?"})
    page, _ = admin_page(server, pages, "Ada Admin")
    page.fill("#canned-search", "/hel")
    expect(page.locator("#canned-rows tr")).to_have_count(2)
    page.get_by_label("Text of /hello").fill("Hi, I am on it.")
    mine = page.locator("#canned-rows tr", has=page.get_by_label("Text of /hello"))
    mine.evaluate("(tr) => { tr.dataset.probe = 1; }")

    # another row changes: Ada's row is not rebuilt at all (the same element, still focused)
    otto.send("PATCH", f"/api/admin/canned/{helps['id']}", {"title": "Help desk"})
    expect(page.get_by_label("Title of /help", exact=True)).to_have_value("Help desk")  # the redraw ran
    expect(page.locator("#canned-rows tr[data-probe]").get_by_label("Text of /hello")).to_be_focused()

    otto.send("PATCH", f"/api/admin/canned/{hello['id']}", {"shortcut": "/hi"})  # /hel no longer finds it
    otto.send("PATCH", f"/api/admin/canned/{helps['id']}", {"title": "Help pages"})
    expect(page.get_by_label("Title of /help", exact=True)).to_have_value("Help pages")  # the redraw ran
    expect(page.get_by_label("Text of /hello")).to_have_value("Hi, I am on it.")  # kept, unsaved
    expect(page.locator("#canned-rows tr")).to_have_count(2)
    mine.get_by_role("button", name="Save").click()
    expect(page.locator("#canned-rows tr")).to_have_count(1)  # saved: the search's own matches again
    stored = next(c for c in otto.send("GET", "/api/admin/canned") if c["id"] == hello["id"])
    assert (stored["shortcut"], stored["text"]) == ("/hi", "Hi, I am on it.")
