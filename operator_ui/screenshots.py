"""Screenshots of the pages with real data in them, for the README:
``python -m operator_ui.screenshots --base-url http://127.0.0.1:8000``.

It plays a short shift against a running engine (``baton serve`` with a knowledge base and the
``baton users demo`` logins): a visitor on the widget demo asks a question, then for a person;
a few more visitors write over the REST API; the operator opens the widget's conversation (packet
and AI drafts), inserts and edits a draft, replies, and sees the same conversation and the inbox on
a phone; the lead looks at the supervisor view. First, apart, an operator refunds a visitor's order
from the side column's Account tab (``console-account.png``: only when the engine runs with the
sample shop, as ``make run`` does). It talks to the engine only over HTTP, like any client, and
needs Playwright with Debian's chromium.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# Visitors who write while the widget visitor waits: (name, email, what they say, in order).
VISITORS = [
    ("Priya Shah", "priya@example.org", ["My lamp arrived with a cracked base, order LG-20417.",
                                         "This is the second time. I want to talk to a person."]),
    ("Tom Becker", None, ["can i change the address on my order??", "get me a human please"]),
    (None, None, ["WHY HAS NOBODY ANSWERED MY EMAIL, this is useless", "I want a real person"]),
    ("Mei Lin", "mei@example.org", ["Do you ship to Norway?", "I'd like to speak to someone"]),
]
CANNED = {"shortcut": "damaged", "title": "Damaged item: replacement or refund",
          "text": "I'm sorry it arrived damaged. I can send a replacement or refund you in full: "
                  "which would you prefer?"}


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _login(http: httpx.Client, email: str, password: str) -> str:
    response = http.post("/api/operator/login", json={"email": email, "password": password})
    if response.status_code != 200:
        raise SystemExit(f"cannot sign in as {email}: {response.text} (run `baton users demo`?)")
    return response.json()["token"]


def _visitor(http: httpx.Client, name: str | None, email: str | None, lines: list[str]) -> dict[str, Any]:
    started = http.post("/api/visitor/conversations", json={"name": name, "email": email}).json()
    for line in lines:
        http.post("/api/visitor/messages", headers=_bearer(started["token"]),
                  json={"text": line, "client_id": uuid.uuid4().hex}).raise_for_status()
    return started


def _save(page: Any, out: Path, name: str) -> Path:
    path = out / name
    page.screenshot(path=str(path))
    print(f"wrote {path}")
    return path


def _account_shot(http: httpx.Client, browser: Any, base_url: str, out: Path, email: str,
                  password: str) -> Path | None:
    """The console with account context and an action: a visitor whose lamp (order LG-20417, in the
    sample shop) arrived cracked; the operator refunds it from the AI's suggestion, within the limit.
    Needs the engine to run with the sample shop (``make run`` starts both)."""
    from playwright.sync_api import expect

    name, address, lines = VISITORS[0]
    started = _visitor(http, name, address, lines)
    operator = _bearer(_login(http, email, password))
    base = f"/api/operator/conversations/{started['conversation_id']}"
    view = http.get(f"{base}/account", headers=operator).json()
    if view.get("status") == "unconfigured":  # an engine without the sample shop: no account to show
        print("console-account.png skipped: the engine has no account integration")
        return None
    context = browser.new_context(viewport=LAPTOP)  # its own sign-in, apart from the shift's
    context.set_default_timeout(60_000)
    console = context.new_page()
    console.goto(f"{base_url}/operator")
    console.fill("#login-email", email)
    console.fill("#login-password", password)
    console.click("#login button[type=submit]")
    console.locator(".tab[data-tab='all']").click()
    console.locator(".row", has_text=name).first.click()
    console.get_by_role("tab", name="Account").click()
    expect(console.locator("#account .order").first).to_be_visible()
    console.locator("#account .suggestion button.review").first.click()
    console.fill("#action-reason", "Lamp base arrived cracked: refund rather than a replacement")
    console.locator("#action-submit").click()
    expect(console.locator("#account .audit-item.status-completed")).to_be_visible()
    expect(console.locator("#account .order").first).to_contain_text("refunded")
    console.evaluate("document.activeElement.blur(); "
                     "document.getElementById('side-panel-account').scrollTop = 0")
    console.wait_for_timeout(500)
    path = _save(console, out, "console-account.png")
    context.close()
    # refunded, so resolved: the shift's inbox shows the shift's conversations, not this one twice over
    http.post(f"{base}/resolve", headers=operator).raise_for_status()
    # signing in went online: away again, so the shift's widget visitor waits in the queue as a new one would
    http.post("/api/operator/presence", json={"status": "away"}, headers=operator)
    return path


def take(base_url: str, out: Path, email: str, password: str, admin_email: str, admin_password: str,
         chromium: str = "/usr/bin/chromium") -> list[Path]:
    """Play the shift and write the screenshots into ``out``; returns their paths."""
    from playwright.sync_api import expect, sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with httpx.Client(base_url=base_url, timeout=60) as http, sync_playwright() as driver:
        admin = _login(http, admin_email, admin_password)
        http.post("/api/admin/canned", json=CANNED, headers=_bearer(admin))  # 409 when it exists: fine
        browser = driver.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=LAPTOP)
        context.set_default_timeout(60_000)

        account = _account_shot(http, browser, base_url, out, email, password)
        written.extend([account] if account else [])
        home = context.new_page()
        home.goto(f"{base_url}/")
        written.append(_save(home, out, "home.png"))

        visitor = context.new_page()
        visitor.goto(f"{base_url}/demo")
        visitor.get_by_role("button", name="Chat with us").click()
        box = visitor.get_by_label("Your message")
        box.fill("How long does delivery take?")
        box.press("Enter")
        expect(visitor.locator(".msg.bot").first).to_be_visible()
        box.fill("My kettle arrived dented. Can I get a refund?")
        box.press("Enter")
        expect(visitor.locator(".msg.bot, .msg.system").nth(1)).to_be_visible()  # answered, or handed over
        talk = visitor.get_by_role("button", name="Talk to a person")
        if talk.count():
            talk.click()
        expect(visitor.locator(".notice.waiting")).to_be_visible()
        kept = visitor.evaluate("localStorage.getItem('baton.widget:' + location.origin)")
        token = json.loads(kept)["token"]
        widget_conversation = http.get("/api/visitor/messages", headers=_bearer(token)).json()["messages"][0]
        conversation_id = widget_conversation["conversation_id"]
        tokens = {}
        for name, address, lines in VISITORS:
            started = _visitor(http, name, address, lines)
            tokens[started["conversation_id"]] = started["token"]
        visitor.wait_for_timeout(1500)  # the queue position arrives live
        written.append(_save(visitor, out, "widget-laptop.png"))

        console = context.new_page()
        console.goto(f"{base_url}/operator")
        console.fill("#login-email", email)
        console.fill("#login-password", password)
        console.click("#login button[type=submit]")
        expect(console.locator(".row").first).to_be_visible()
        console.goto(f"{base_url}/operator#/conversation/{conversation_id}")
        console.reload()
        expect(console.locator(".packet")).to_be_visible()
        if console.locator(".conv-head [data-action=claim]").count():
            console.locator(".conv-head [data-action=claim]").click()
        expect(console.locator(".draft button.insert").first).to_be_visible()
        console.get_by_label("New tag").fill("damaged")
        console.get_by_label("New tag").press("Enter")
        console.locator(".draft button.insert").first.click()
        composer = console.get_by_label("Reply to the visitor")
        composer.press("End")
        composer.type(" I'm Sam from the Larkspur team.")
        console.evaluate("document.getElementById('side-panel-drafts').scrollTop = 0")
        console.wait_for_timeout(500)
        written.append(_save(console, out, "console-laptop.png"))
        composer.press("Enter")
        expect(visitor.locator(".msg.operator")).to_be_visible()
        visitor.set_viewport_size(PHONE)
        visitor.wait_for_timeout(500)
        written.append(_save(visitor, out, "widget-phone.png"))
        console.set_viewport_size(PHONE)  # the same conversation on a phone: one column, no key hints
        console.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")
        console.wait_for_timeout(500)
        written.append(_save(console, out, "console-phone.png"))
        console.get_by_role("button", name="Back to the list").click()
        console.wait_for_timeout(500)
        written.append(_save(console, out, "console-phone-inbox.png"))
        console.set_viewport_size(LAPTOP)

        operator = _login(http, email, password)
        mine = http.get("/api/operator/conversations?state=mine", headers=_bearer(operator)).json()
        for row in mine:  # one other conversation answered, resolved and rated, for the metrics
            other = row["conversation"]["id"]
            if other in tokens:
                reply = {"text": "Sorted: a replacement is on its way.", "client_id": uuid.uuid4().hex}
                http.post(f"/api/operator/conversations/{other}/reply", headers=_bearer(operator), json=reply)
                http.post(f"/api/operator/conversations/{other}/resolve", headers=_bearer(operator))
                http.post("/api/visitor/csat", headers=_bearer(tokens[other]), json={"score": 5})
                break

        lead = browser.new_context(viewport=LAPTOP)
        supervisor = lead.new_page()
        supervisor.goto(f"{base_url}/supervisor")
        supervisor.fill("#login-email", admin_email)
        supervisor.fill("#login-password", admin_password)
        supervisor.click("#login button[type=submit]")
        expect(supervisor.locator(".kpi").first).to_be_visible()
        supervisor.wait_for_timeout(1000)
        written.append(_save(supervisor, out, "supervisor-laptop.png"))
        browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m operator_ui.screenshots",
                                     description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--email", default="operator@example.com")
    parser.add_argument("--password", default="operator-demo")
    parser.add_argument("--admin-email", default="admin@example.com")
    parser.add_argument("--admin-password", default="admin-demo")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args(argv)
    take(args.base_url.rstrip("/"), args.out, args.email, args.password, args.admin_email,
         args.admin_password, args.chromium)
    return 0


if __name__ == "__main__":
    sys.exit(main())
