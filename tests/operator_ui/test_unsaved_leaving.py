"""Leaving the admin or supervisor page with an unsaved edit asks first, and an input method's
composition survives live redraws (unsaved.js), in Chromium against the real server.

Leaving: a field changed and not saved (or typed into a form that creates something and not yet
sent) makes the browser's beforeunload prompt appear on following a link, and Sign out asks with a
confirm naming how many fields; a field only focused, or saved, lets the page go without a word
(proven by the page having reloaded or signed out, never by a sleep). Composition: text composed
through the DevTools protocol's IME (``Input.imeSetComposition``, as an input method does it) while
another admin saves the same row stays in the very control, focused, its composition never ended;
once it ends the usual rules apply at once."""

from __future__ import annotations

import pytest
from playwright.sync_api import CDPSession, Dialog, Page, expect

from tests.engine.conftest import Server
from tests.operator_ui.conftest import Pages, sign_in
from tests.operator_ui.test_admin import admin_page
from tests.operator_ui.test_admin_live_edits import OtherAdmin

pytestmark = pytest.mark.browser


class Dialogs:
    """Every dialog the page opens, answered as ``accept`` says at that moment (dismissed: the
    person stays; accepted: a dialog that should not have come does not hold the page)."""

    def __init__(self, page: Page) -> None:
        self.seen: list[tuple[str, str]] = []
        self.accept = False
        page.on("dialog", self.answer)

    def answer(self, dialog: Dialog) -> None:
        self.seen.append((dialog.type, dialog.message))
        if self.accept:
            dialog.accept()
        else:
            dialog.dismiss()


def test_leaving_the_admin_page_asks_only_while_an_edit_is_unsaved(server: Server, pages: Pages) -> None:
    otto = OtherAdmin(server)
    otto.send("POST", "/api/admin/canned", {"shortcut": "/hello", "title": "Greeting", "text": "Hi!"})
    page, _ = admin_page(server, pages, "Ada Admin")
    dialogs = Dialogs(page)
    text = page.get_by_label("Text of /hello")
    expect(text).to_have_value("Hi!")

    text.click()  # focused, nothing typed (and the page has had a gesture: the browser would ask)
    dialogs.accept = True
    page.reload()  # returns once the new page has loaded: it did unload
    expect(page.locator("#connection")).to_have_text("Live")
    assert dialogs.seen == []

    dialogs.accept = False
    text.click()
    page.keyboard.press("ControlOrMeta+End")
    page.keyboard.type(" Back soon.")
    with page.expect_event("dialog") as asked:
        page.get_by_role("link", name="Supervisor view").click()
    assert asked.value.type == "beforeunload"
    expect(text).to_have_value("Hi! Back soon.")  # dismissed: still here, the edit intact
    assert page.url.endswith("/admin")

    with page.expect_event("dialog") as asked:
        page.get_by_role("button", name="Sign out").click()
    assert (asked.value.type, asked.value.message) == (
        "confirm", "1 field has a change not saved. Sign out and lose it?")
    expect(page.locator("#me")).to_be_visible()  # dismissed: still signed in
    expect(text).to_have_value("Hi! Back soon.")

    page.locator("#canned-rows tr", has=text).get_by_role("button", name="Save").click()
    expect(page.locator("#audit")).to_contain_text('text "Hi!" → "Hi! Back soon."')
    dialogs.accept = True
    seen = len(dialogs.seen)
    page.reload()
    expect(page.get_by_label("Text of /hello")).to_have_value("Hi! Back soon.")  # the new page, stored value
    assert dialogs.seen[seen:] == []


def test_a_half_filled_new_item_form_counts_until_it_is_sent(server: Server, pages: Pages) -> None:
    """What is typed into the form that creates a canned reply is unsaved too: leaving asks; once
    the reply is created (the form sent and reset) the page goes without a word."""
    page, _ = admin_page(server, pages, "Ada Admin")
    dialogs = Dialogs(page)
    form = page.locator("#new-canned")
    form.locator("[name=shortcut]").fill("/bye")
    with page.expect_event("dialog") as asked:
        page.get_by_role("link", name="Supervisor view").click()
    assert asked.value.type == "beforeunload"
    expect(form.locator("[name=shortcut]")).to_have_value("/bye")  # dismissed: still here
    form.locator("[name=title]").fill("Goodbye")
    form.locator("[name=text]").fill("Thanks for writing!")
    form.locator("button[type=submit]").click()
    expect(page.get_by_label("Text of /bye")).to_have_value("Thanks for writing!")
    expect(form.locator("[name=shortcut]")).to_have_value("")  # sent and reset
    dialogs.accept = True
    seen = len(dialogs.seen)
    page.reload()
    expect(page.get_by_label("Text of /bye")).to_have_value("Thanks for writing!")  # the new page
    assert dialogs.seen[seen:] == []


def test_leaving_the_supervisor_page_asks_while_a_control_is_not_saved(server: Server, pages: Pages) -> None:
    """The supervisor's controls save on change; one the engine refused stays as set, unsaved."""
    lee = server.new_operator(role="supervisor", name="Lee Lead")
    sam = server.new_operator(name="Sam Rivera")["operator"]["id"]
    page = pages.open(f"{server.base_url}/supervisor")
    sign_in(page, lee["operator"]["email"])
    expect(page.locator("#connection")).to_have_text("Live")
    dialogs = Dialogs(page)
    capacity = page.get_by_label("Capacity of Sam Rivera")
    capacity.click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("500")
    capacity.press("Enter")
    expect(page.locator("#control-error")).to_contain_text("capacity")  # refused: not saved

    with page.expect_event("dialog") as asked:
        page.get_by_role("link", name="Reports").click()
    assert asked.value.type == "beforeunload"
    expect(capacity).to_have_value("500")  # dismissed: still here
    assert page.url.endswith("/supervisor")

    capacity.click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("7")
    with page.expect_response(lambda r: r.url.endswith(f"/api/supervisor/operators/{sam}")
                              and r.request.method == "PATCH") as saved:
        capacity.press("Enter")
    assert saved.value.ok
    expect(page.locator("#operator-rows tr", has_text="Sam Rivera")).to_contain_text("0 / 7")
    dialogs.accept = True
    seen = len(dialogs.seen)
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("#login-email")).to_be_visible()  # signed out: the page reloaded
    assert dialogs.seen[seen:] == []


class Ime:
    """An input method at work in ``page``, through the DevTools protocol (as the browser's own IME
    does it: compositionstart, updates, compositionend)."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.cdp: CDPSession = page.context.new_cdp_session(page)

    def compose(self, text: str, replace: int = 0) -> None:
        """The person is composing ``text``, not committed yet, over the ``replace`` characters
        before the caret."""
        if replace:
            self.page.evaluate("(n) => { const el = document.activeElement; const end = el.selectionEnd;"
                               " el.setSelectionRange(end - n, end); }", replace)
        self.cdp.send("Input.imeSetComposition", {"text": text, "selectionStart": len(text),
                                                  "selectionEnd": len(text)})

    def commit(self, text: str) -> None:
        """The input method commits ``text``: the composition ends."""
        self.cdp.send("Input.insertText", {"text": text})


WATCH = """(el) => { window.composed = el; window.ended = 0;
  el.addEventListener("compositionend", () => { window.ended += 1; }); }"""
UNDISTURBED = """() => [window.composed.isConnected, document.activeElement === window.composed,
  window.ended, window.composed.value]"""


def test_a_composition_survives_a_redraw_of_its_row(server: Server, pages: Pages) -> None:
    otto = OtherAdmin(server)
    hello = otto.send("POST", "/api/admin/canned", {"shortcut": "/hello", "title": "Greeting", "text": "Hi!"})
    refund = otto.send("POST", "/api/admin/canned", {"shortcut": "/refund", "title": "Refunds",
                                                     "text": "Soon."})
    page, _ = admin_page(server, pages, "Ada Admin")
    ime = Ime(page)
    title = page.get_by_label("Title of /hello")
    expect(title).to_have_value("Greeting")

    # composing over the last letter with the same letter: the value equals the stored one, yet held
    title.click()
    page.keyboard.press("End")
    title.evaluate(WATCH)
    ime.compose("g", replace=1)
    assert title.evaluate("(el) => el.value") == "Greeting"
    otto.send("PATCH", f"/api/admin/canned/{hello['id']}", {"text": "Otto's text"})  # the same row
    otto.send("PATCH", f"/api/admin/canned/{refund['id']}", {"text": "In 5 days."})  # another row
    expect(page.get_by_label("Text of /refund")).to_have_value("In 5 days.")  # the redraw ran
    assert page.evaluate(UNDISTURBED) == [True, True, 0, "Greeting"]  # same element, focused, composing
    ime.commit("g")
    # the composition ended: its row is drawn at once by the usual rules (unchanged: the stored values)
    expect(page.get_by_label("Text of /hello")).to_have_value("Otto's text")
    expect(title).to_have_value("Greeting")
    expect(title).to_be_focused()

    # composing text that changes the field, while Otto saves that very field
    page.get_by_label("Text of /hello").click()
    page.keyboard.press("ControlOrMeta+End")
    page.get_by_label("Text of /hello").evaluate(WATCH)
    ime.compose("です")
    otto.send("PATCH", f"/api/admin/canned/{hello['id']}", {"text": "Otto again"})
    otto.send("PATCH", f"/api/admin/canned/{refund['id']}", {"text": "In 3 days."})
    expect(page.get_by_label("Text of /refund")).to_have_value("In 3 days.")  # the redraw ran
    assert page.evaluate(UNDISTURBED) == [True, True, 0, "Otto's textです"]
    ime.commit("です")
    text = page.get_by_label("Text of /hello")
    expect(text).to_have_class("changed-elsewhere")  # now the usual rule: kept, and Otto's save said
    expect(text).to_have_value("Otto's textです")
    expect(text).to_be_focused()
    page.locator("#canned-rows tr", has=text).get_by_role("button", name="Save").click()
    expect(page.locator("#audit")).to_contain_text('text "Otto again" → "Otto\'s textです"')
