"""After hours in Chromium: the widget shows the closed banner before the visitor writes, the honest
notice once they ask for a person, and a leave-a-message form that refuses a bad phone number with
the reason and keeps a good address on the contact, then asks for the code mailed to an email or
texted to a phone (the Twilio stand-in); the admin page edits a team's hours (a wrong
zone refused, the holidays shown); ``python -m operator_ui.after_hours_screenshot`` writes the
README's PNG against a real engine on its own clock."""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from engine.service.bot import Bot
from engine.settings import Settings
from tests.engine.channels.conftest import (
    OUR_NUMBER,
    SMS_SID,
    SMS_TOKEN,
    Mailbox,
    Provider,
    new_berlin_phone,
    serve_mailbox,
    serve_provider,
)
from tests.engine.conftest import Server, run_server
from tests.engine.hours.conftest import SUNDAY_NIGHT, WEEKDAYS, Clock
from tests.operator_ui.conftest import PASSWORD, Pages, sign_in
from tests.operator_ui.test_screenshots import png_size

pytestmark = pytest.mark.browser


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    yield from serve_mailbox()


@pytest.fixture
def mailing_server(tmp_path: Path, ui_kb: Path, ui_bot: Bot, mailbox: Mailbox) -> Iterator[Server]:
    """The browser tests' engine, mailing through the local SMTP server (confirmation codes)."""
    settings = Settings(environment="test", secret_key=secrets.token_urlsafe(32), index_dir=ui_kb,
                        database_url=f"sqlite:///{tmp_path / 'baton.db'}", routing_interval_seconds=0.3,
                        smtp_host="127.0.0.1", smtp_port=mailbox.port)
    yield from run_server(settings, ui_bot)


@pytest.fixture
def texting_server(tmp_path: Path, ui_kb: Path, ui_bot: Bot) -> Iterator[tuple[Server, Provider]]:
    """The browser tests' engine, texting through the Twilio stand-in (phone confirmation codes)."""
    for provider in serve_provider():
        settings = Settings(environment="test", secret_key=secrets.token_urlsafe(32), index_dir=ui_kb,
                            database_url=f"sqlite:///{tmp_path / 'baton.db'}", routing_interval_seconds=0.3,
                            sms_provider_url=provider.url, sms_account_sid=SMS_SID, sms_auth_token=SMS_TOKEN,
                            sms_from=OUR_NUMBER)
        for server in run_server(settings, ui_bot):
            yield server, provider


def berlin_team(server: Server, hours: bool = True) -> tuple[str, int]:
    """An admin (their email) and the one team, Berlin, closed on the server's clock (Sunday night,
    Monday being Women's Day there)."""
    server.app.state.ctx.clock = Clock(SUNDAY_NIGHT)
    admin = server.new_operator(role="admin", name="Ada Admin")
    auth = {"Authorization": f"Bearer {admin['token']}"}
    with httpx.Client(base_url=server.base_url) as http:
        team = http.post("/api/admin/teams", headers=auth, json={"name": "Berlin"}).json()["id"]
        if hours:
            http.put(f"/api/admin/teams/{team}/hours", headers=auth, json={
                "timezone": "Europe/Berlin", "weekly": WEEKDAYS, "holiday_country": "DE",
                "holiday_subdivision": "BE"}).raise_for_status()
    return admin["operator"]["email"], team


def test_widget_after_hours_banner_notice_and_leave_a_message(mailing_server: Server, pages: Pages,
                                                              mailbox: Mailbox) -> None:
    server = mailing_server
    berlin_team(server)
    visitor = pages.open(f"{server.base_url}/demo", init_script=(
        "Intl.DateTimeFormat.prototype.resolvedOptions = () => ({timeZone: 'UTC'});"))
    visitor.get_by_role("button", name="Chat with us").click()
    banner = visitor.locator(".hours-banner")
    expect(banner).to_contain_text("After hours")  # before the visitor wrote anything
    expect(banner).to_contain_text("we open on Tuesday at 9:00 (Europe/Berlin time), in 36 hours")

    box = visitor.get_by_label("Your message")
    box.fill("I want to talk to a person")
    box.press("Enter")
    notice = visitor.locator(".msg.system", has_text="nobody can answer you this minute")
    expect(notice).to_contain_text("we open on Tuesday at 9:00 (Europe/Berlin time), in 36 hours")
    expect(visitor.locator(".notice.waiting")).to_contain_text("Waiting for our team to open")
    expect(visitor.locator(".notice.waiting")).to_contain_text("Tuesday")
    expect(banner).to_be_hidden()  # the notice says it now
    expect(visitor.get_by_text("I'm bringing in a person")).to_have_count(0)

    visitor.get_by_role("button", name="Leave a message").click()
    form = visitor.get_by_role("form", name="Leave a message")
    form.get_by_label("Email or phone number to answer you on").fill("12345")
    form.get_by_role("button", name="Leave message").click()
    expect(form.get_by_role("alert")).to_contain_text("with + and the country code")
    form.get_by_label("Email or phone number to answer you on").fill("Ann@Example.com")
    form.get_by_label("Your question").fill("Where is my parcel?")
    form.get_by_role("button", name="Leave message").click()
    sent = visitor.locator(".msg.system", has_text="the code we have just sent to ann@example.com")
    expect(sent).to_be_visible()
    expect(visitor.locator(".msg.visitor", has_text="Where is my parcel?")).to_be_visible()
    code = re.search(r"\b(\d{6})\b", mailbox.wait_for(lambda m: m["To"] == "ann@example.com").get_content())
    box = form.get_by_label("The 6-digit code we sent to ann@example.com")
    box.fill("000000" if code.group(1) != "000000" else "111111")
    form.get_by_role("button", name="Confirm").click()
    expect(form.get_by_role("alert")).to_contain_text("Not confirmed: the confirmation code is wrong")
    box.fill(code.group(1))
    form.get_by_role("button", name="Confirm").click()
    thanks = visitor.get_by_text("Thank you. We'll answer you at ann@example.com, even if you have left")
    expect(thanks).to_be_visible()
    expect(visitor.get_by_role("button", name="Leave a message")).to_have_count(0)

    operator = server.new_operator()
    with httpx.Client(base_url=server.base_url) as http:
        queued = http.get("/api/operator/conversations", params={"state": "queued"},
                          headers={"Authorization": f"Bearer {operator['token']}"}).json()
    assert [row["contact"]["email"] for row in queued] == ["ann@example.com"]
    assert queued[0]["conversation"]["held_until"] == "2027-03-09T08:00:00Z"
    console = pages.open(f"{server.base_url}/operator")
    sign_in(console, operator["operator"]["email"])
    console.get_by_role("button", name="Queue 1").click()
    expect(console.locator(".row", has_text="ann@example.com").locator(".wait")).to_contain_text(
        "after hours: for Tue")  # the operator sees it waits for the opening, not an ordinary wait


def test_widget_leave_a_message_with_a_phone_asks_for_the_texted_code(
        texting_server: tuple[Server, Provider], pages: Pages) -> None:
    server, provider = texting_server
    berlin_team(server)
    typed, number = new_berlin_phone()
    visitor = pages.open(f"{server.base_url}/demo", init_script=(
        "Intl.DateTimeFormat.prototype.resolvedOptions = () => ({timeZone: 'UTC'});"))
    visitor.get_by_role("button", name="Chat with us").click()
    box = visitor.get_by_label("Your message")
    box.fill("I want to talk to a person")
    box.press("Enter")
    visitor.get_by_role("button", name="Leave a message").click()
    form = visitor.get_by_role("form", name="Leave a message")
    form.get_by_label("Email or phone number to answer you on").fill(typed)
    form.get_by_role("button", name="Leave message").click()
    texted = visitor.locator(".msg.system", has_text=f"the code we have just texted to {number}")
    expect(texted).to_be_visible()
    text = provider.wait_for(lambda r: r.form().get("To") == number).form()["Body"]
    code = re.search(r"\b(\d{6})\b", text).group(1)
    box = form.get_by_label(f"The 6-digit code we texted to {number}")
    box.fill(f"{(int(code) + 1) % 10**6:06d}")
    form.get_by_role("button", name="Confirm").click()
    expect(form.get_by_role("alert")).to_contain_text("Not confirmed: the confirmation code is wrong")
    box.fill(code)
    form.get_by_role("button", name="Confirm").click()
    expect(visitor.get_by_text(f"Thank you. We'll answer you by SMS at {number}, even if you have left")) \
        .to_be_visible()
    expect(visitor.get_by_role("button", name="Leave a message")).to_have_count(0)
    assert len(provider.texts_to(number)) == 1  # the wrong code texted nothing more


def test_admin_page_edits_a_teams_hours(server: Server, pages: Pages) -> None:
    email, team = berlin_team(server, hours=False)
    page = pages.open(f"{server.base_url}/admin")
    sign_in(page, email, PASSWORD)
    expect(page.locator("#connection")).to_have_text("Live")  # its first redraw is done: fields stay filled
    form = page.locator(f".hours-form[data-team-id='{team}']")
    expect(form.locator(".hours-now")).to_have_text("Always open (no hours set)")
    form.get_by_label("Time zone of Berlin").fill("Mars/Olympus")
    for day in ("Mon", "Tue"):
        form.get_by_label(f"Berlin opens on {day}").fill("09:00")
        form.get_by_label(f"Berlin closes on {day}").fill("17:00")
    form.get_by_role("button", name="Save hours").click()
    expect(form.get_by_role("alert")).to_contain_text("not an IANA time zone")

    form.get_by_label("Time zone of Berlin").fill("Europe/Berlin")
    form.get_by_label("Holiday country of Berlin").fill("DE")
    form.get_by_label("Holiday subdivision of Berlin").fill("BE")
    form.get_by_role("button", name="Save hours").click()
    saved = page.locator(f".hours-form[data-team-id='{team}']")
    expect(saved.locator(".hours-now")).to_contain_text("Closed now: opens Tuesday")
    expect(saved).to_contain_text("2027-03-08 Women's Day")
    expect(saved.get_by_label("Berlin opens on Tue")).to_have_value("09:00")
    expect(page.locator("#audit")).to_contain_text(f"team:{team}")

    # a lunch break on Monday: two intervals; Tuesday closed by removing its only one
    saved.get_by_label("Berlin closes on Mon").fill("12:00")
    saved.get_by_role("button", name="Add hours to Berlin on Mon").click()
    saved.get_by_label("Berlin opens on Mon (2)").fill("13:00")
    saved.get_by_label("Berlin closes on Mon (2)").fill("17:30")
    saved.get_by_role("button", name="Remove Berlin's hours on Tue").click()
    expect(saved.get_by_label("Berlin opens on Tue")).to_have_value("")  # an empty row: closed
    saved.get_by_role("button", name="Save hours").click()
    again = page.locator(f".hours-form[data-team-id='{team}']")
    expect(again.get_by_label("Berlin opens on Mon (2)")).to_have_value("13:00")
    with httpx.Client(base_url=server.base_url) as http:
        token = http.post("/api/operator/login", json={"email": email, "password": PASSWORD}).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        hours = http.get(f"/api/admin/teams/{team}/hours", headers=auth).json()
    assert [(o["day"], o["opens"], o["closes"]) for o in hours["team"]["hours"]] == [
        ("mon", "09:00", "12:00"), ("mon", "13:00", "17:30")]


def test_after_hours_screenshot(server: Server, tmp_path: Path) -> None:
    """The script closes the desk for real: hours in a zone where it is night on the engine's clock
    (the wall clock here), then puts them back."""
    server.app.state.ctx.clock = lambda: datetime.now(UTC)
    admin = server.new_operator(role="admin", name="Lee Lead")["operator"]["email"]
    run = subprocess.run([sys.executable, "-m", "operator_ui.after_hours_screenshot", "--base-url",
                          server.base_url, "--out", str(tmp_path), "--admin-email", admin,
                          "--admin-password", PASSWORD], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert png_size(tmp_path / "widget-after-hours.png") == (1280, 800)
    with httpx.Client(base_url=server.base_url) as http:
        token = http.post("/api/operator/login", json={"email": admin, "password": PASSWORD}).json()["token"]
        teams = http.get("/api/admin/teams", headers={"Authorization": f"Bearer {token}"}).json()
        assert [t["timezone"] for t in teams] == [None]  # the team it made has its hours put back
