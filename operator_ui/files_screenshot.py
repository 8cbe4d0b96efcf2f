"""``python -m operator_ui.files_screenshot`` writes the widget with files in it as a PNG
(``widget-files.png``, laptop 1280x800): a visitor sends a screenshot of a checkout error from the
widget's paperclip (it shows inline, from its thumbnail) and an operator answers with a PDF, which
the widget shows as a file to download.

It plays this against a running engine (``baton serve`` with the ``baton users demo`` logins) and,
like ``operator_ui.screenshots``, talks to it only over HTTP: the visitor in Chromium, the operator
over the REST API (upload, then a reply carrying the file).
"""

from __future__ import annotations

import argparse
import sys
import uuid
from pathlib import Path

import httpx

from operator_ui.sample_files import pdf, screenshot
from operator_ui.screenshots import CHROMIUM_ARGS, LAPTOP, _bearer, _login, _save

QUESTION = "I get an error when I pay, can someone look at this?"
CAPTION = "This is what I see"
ANSWER = "Thanks! The payment did go through: here is your receipt."


def take(base_url: str, out: Path, email: str, password: str, chromium: str = "/usr/bin/chromium") -> Path:
    from playwright.sync_api import expect, sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    with httpx.Client(base_url=base_url, timeout=60) as http, sync_playwright() as driver:
        token = _login(http, email, password)
        browser = driver.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=LAPTOP)
        context.set_default_timeout(60_000)
        visitor = context.new_page()
        visitor.goto(f"{base_url}/demo")
        visitor.get_by_role("button", name="Chat with us").click()
        box = visitor.get_by_label("Your message")
        box.fill(QUESTION)
        box.press("Enter")
        expect(visitor.locator(".msg.bot, .msg.system").first).to_be_visible()  # the bot's turn is over
        if not visitor.locator(".notice.waiting").is_visible():  # it answered rather than hand over
            visitor.get_by_role("button", name="Talk to a person").click()
        expect(visitor.locator(".notice.waiting")).to_be_visible()
        visitor.locator("#baton-file").set_input_files(
            files=[{"name": "checkout-error.png", "mimeType": "image/png", "buffer": screenshot()}])
        expect(visitor.locator(".uploads .upload.ready")).to_be_visible()
        box.fill(CAPTION)
        box.press("Enter")
        expect(visitor.locator(".msg.visitor .attachment img")).to_be_visible()
        visitor.wait_for_function("() => [...document.querySelector('#baton-widget').shadowRoot"
                                  ".querySelectorAll('.attachment img')]"
                                  ".every(i => i.complete && i.naturalWidth)")

        queued = http.get("/api/operator/conversations", params={"state": "queued", "sort": "newest"},
                          headers=_bearer(token)).json()
        conversation_id = queued[0]["conversation"]["id"]
        uploaded = http.post(f"/api/operator/conversations/{conversation_id}/attachments",
                             files={"file": ("receipt-20417.pdf", pdf("Receipt LG-20417"),
                                             "application/pdf")},
                             headers=_bearer(token))
        uploaded.raise_for_status()
        http.post(f"/api/operator/conversations/{conversation_id}/reply", headers=_bearer(token),
                  json={"text": ANSWER, "client_id": uuid.uuid4().hex,
                        "attachment_ids": [uploaded.json()["id"]]}).raise_for_status()
        expect(visitor.locator(".msg.operator .file-chip")).to_contain_text("receipt-20417.pdf")
        visitor.wait_for_timeout(300)
        visitor.evaluate("() => document.querySelector('#baton-widget').shadowRoot.activeElement?.blur()")
        path = _save(visitor, out, "widget-files.png")
        browser.close()
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m operator_ui.files_screenshot",
                                     description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--email", default="operator@example.com")
    parser.add_argument("--password", default="operator-demo")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args(argv)
    take(args.base_url.rstrip("/"), args.out, args.email, args.password, args.chromium)
    return 0


if __name__ == "__main__":
    sys.exit(main())
