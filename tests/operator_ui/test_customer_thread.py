"""One thread per customer in the console, in Chromium against a real engine with the local SMTP
server and Twilio stand-in: an operator finds the contact a text came from, merges it into the web
visitor (whose confirmed email had already joined by itself), sees one timeline across web, email
and SMS, replies (it leaves by SMS, the channel used last), picks email for the next one, and
unmerges: both contacts have their conversations back."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import expect

from engine.service.bot import Bot
from engine.settings import Settings
from tests.engine.channels.conftest import (
    SUPPORT,
    Mailbox,
    Provider,
    channel_settings,
    new_phone,
    operator_get,
    post_email,
    post_sms,
    serve_provider,
)
from tests.engine.channels.test_one_thread import confirmed_visitor, timeline
from tests.engine.channels.test_sms import conversation_of
from tests.engine.conftest import Server, free_port, run_server
from tests.engine.security.test_email_confirmation import new_address
from tests.operator_ui.conftest import Pages, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def stand_ins() -> Iterator[tuple[Provider, Mailbox]]:
    box = Mailbox(free_port())
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    for provider in serve_provider():
        yield provider, box
    controller.stop()


@pytest.fixture
def thread_server(tmp_path: Path, ui_kb: Path, ui_bot: Bot,
                  stand_ins: tuple[Provider, Mailbox]) -> Iterator[Server]:
    base = Settings(environment="test", secret_key=secrets.token_urlsafe(32), index_dir=ui_kb,
                    attachment_dir=tmp_path / "files")
    settings = channel_settings(base, *stand_ins, database_url=f"sqlite:///{tmp_path / 'baton.db'}")
    yield from run_server(settings, ui_bot)


def test_merge_reply_on_the_last_channel_and_unmerge_in_the_console(
        thread_server: Server, stand_ins: tuple[Provider, Mailbox], pages: Pages) -> None:
    provider, mailbox = stand_ins
    server = thread_server
    address, phone = new_address(), new_phone()
    visitor = confirmed_visitor(server, mailbox, address)
    web = visitor["conversation_id"]
    mail = post_email(server, **{"from": address}, to=SUPPORT, subject="Order 1042",
                      text="any news on my order?", message_id=f"<{uuid.uuid4().hex}@customer.example>")
    assert mail.json()["conversation_id"] == web  # her confirmed address: the same thread by itself
    assert post_sms(server, phone, "Dana here, texting from my phone").status_code == 200
    texted = conversation_of(server, phone)
    noor = server.new_operator(name="Noor")
    contact = operator_get(server, noor["token"], f"/api/operator/conversations/{web}")["contact"]["id"]

    console = pages.open(f"{server.base_url}/operator#/conversation/{web}")
    sign_in(console, noor["operator"]["email"])
    console.get_by_role("tab", name="Customer").click()
    panel = console.locator("section.customer")
    expect(panel.locator(".timeline .entry[data-channel=email].role-visitor")).to_have_count(1)
    expect(panel.locator(".identities")).to_contain_text("✓ confirmed")
    expect(panel.locator(".timeline .entry[data-channel=sms]")).to_have_count(0)

    # find the contact the text came from and merge it, with a reason for the audit
    panel.get_by_label("Merge another contact into this customer").fill(phone)
    panel.get_by_role("button", name="Find").click()
    candidate = panel.locator(".merge-results .candidate")
    expect(candidate).to_contain_text(phone)
    candidate.get_by_role("button", name="Merge…").click()
    candidate.locator(".merge-reason").fill("she names order 1042 in the text")
    candidate.get_by_role("button", name="Merge #").click()
    expect(panel.locator(".customer-status")).to_contain_text("merged into this customer")
    expect(panel.locator(".timeline .entry[data-channel=sms].role-visitor")).to_have_count(1)
    expect(panel.locator(".merges")).to_contain_text("she names order 1042")
    expect(console.get_by_label("Replies leave on")).to_contain_text(f"Automatic: SMS to {phone}")

    # the reply leaves by SMS, the channel she used last; then by email, chosen
    composer = console.get_by_label("Reply to the visitor")
    composer.fill("Noor here: it left the warehouse today.")
    composer.press("Enter")
    provider.wait_for(lambda r: r.form().get("To") == phone and "left the warehouse" in r.form()["Body"])
    by_text = panel.locator(".timeline .entry.role-operator[data-channel=sms]")
    expect(by_text).to_contain_text(f"sent to {phone}")  # live: message.delivered redraws the timeline
    console.get_by_label("Replies leave on").select_option("email")
    composer.fill("The tracking number is in this mail.")
    composer.press("Enter")
    mailbox.wait_for(lambda m: address in str(m["To"]) and "tracking number" in m.get_content())
    by_mail = panel.locator(".timeline .entry.role-operator[data-channel=email]")
    expect(by_mail).to_contain_text(f"sent to {address}")
    thread = timeline(server, noor["token"], contact)
    assert {c["id"] for c in thread["conversations"]} == {web, texted}

    # unmerge: the text's contact has its conversation and number back
    panel.get_by_role("button", name="Unmerge").click()
    expect(panel.locator(".customer-status")).to_contain_text("Merge undone")
    expect(panel.locator(".timeline .entry[data-channel=sms].role-visitor")).to_have_count(0)
    expect(panel.locator(".merges li.undone")).to_have_count(1)
    kept = timeline(server, noor["token"], contact)
    assert [c["id"] for c in kept["conversations"]] == [web]
    other = operator_get(server, noor["token"], f"/api/operator/conversations/{texted}")["contact"]["id"]
    assert other != contact
    assert [i["external_id"] for i in timeline(server, noor["token"], other)["identities"]] == [phone]
