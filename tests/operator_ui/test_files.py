"""Files in a real browser, against a real engine: a visitor sends a screenshot from the widget
(the paperclip; a paste; a drop) with a progress bar, waiting above the box to go with the words
typed next (or alone), the operator sees it inline in the console and sends a PDF back from the
composer, which the visitor downloads; a disguised file is refused in the widget with the engine's
reason."""

from __future__ import annotations

import base64
import re
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.engine.attachments import files
from tests.engine.conftest import Server
from tests.operator_ui.conftest import PASSWORD, Pages
from tests.operator_ui.test_console_day_one import console_with_it_open, visitor_waiting
from tests.operator_ui.test_screenshots import png_size

pytestmark = pytest.mark.browser


def loaded(page: Page, selector: str) -> None:
    """The image at ``selector`` has been drawn (its blob fetched with the page's token)."""
    page.wait_for_function("s => { const i = document.querySelector('#baton-widget')?.shadowRoot"
                           "?.querySelector(s) || document.querySelector(s);"
                           " return i && i.complete && i.naturalWidth > 0; }", arg=selector)


def send_by_event(page: Page, kind: str, name: str, data: bytes, mime: str) -> None:
    """A paste into the widget's box, or a drop on its panel, carrying one file (as the browser makes
    them from the clipboard or a drag from the desktop)."""
    page.evaluate("""([kind, name, b64, mime]) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([bytes], name, {type: mime}));
      const root = document.querySelector('#baton-widget').shadowRoot;
      if (kind === 'paste') {
        root.querySelector('#baton-input').dispatchEvent(
          new ClipboardEvent('paste', {clipboardData: transfer, bubbles: true, cancelable: true}));
      } else {
        const panel = root.querySelector('.panel');
        for (const type of ['dragenter', 'dragover', 'drop']) {
          panel.dispatchEvent(new DragEvent(type, {dataTransfer: transfer, bubbles: true, cancelable: true}));
        }
      }
    }""", [kind, name, base64.b64encode(data).decode(), mime])


def test_a_screenshot_from_the_widget_reaches_the_operator_and_a_pdf_comes_back(server: Server,
                                                                                pages: Pages) -> None:
    kim = server.new_operator(name="Kim Lee")
    visitor = visitor_waiting(server, pages)
    console = console_with_it_open(server, pages, kim)

    visitor.locator("#baton-file").set_input_files(files=[
        {"name": "error.png", "mimeType": "image/png", "buffer": files.screenshot()},
        {"name": "wrong.png", "mimeType": "image/png", "buffer": files.screenshot(400, 300)}])
    waiting = visitor.locator(".uploads .upload.ready")
    expect(waiting).to_have_count(2)  # uploaded, waiting for the words that go with them
    visitor.get_by_role("button", name="Remove wrong.png").click()
    expect(waiting).to_have_text([re.compile(r"^error\.png")])
    expect(visitor.locator(".msg.visitor .attachment")).to_have_count(0)  # nothing sent yet
    box = visitor.get_by_label("Your message")
    box.fill("This shows when I pay")
    box.press("Enter")
    sent = visitor.locator(".msg.visitor", has_text="This shows when I pay")
    expect(sent.locator(".attachment.image")).to_have_count(1)  # one message: the words and the file
    loaded(visitor, ".msg.visitor .attachment img")
    expect(visitor.locator(".uploads .upload")).to_have_count(0)
    expect(visitor.locator(".msg.visitor.pending")).to_have_count(0)  # acknowledged

    said = console.locator(".transcript .msg.visitor", has_text="This shows when I pay")
    expect(said.locator(".attachment.image")).to_have_count(1)
    loaded(console, ".transcript .msg.visitor .attachment img")
    expect(console.locator(".transcript .msg.visitor .attachment")).to_have_count(1)  # not the removed one
    console.locator(".transcript .msg.visitor .attachment .thumb").click()  # full size over the page
    expect(console.locator(".lightbox img")).to_be_visible()
    loaded(console, ".lightbox img")
    assert console.locator(".lightbox img").evaluate("i => i.naturalWidth") == 1200
    console.keyboard.press("Escape")
    expect(console.locator(".lightbox")).to_have_count(0)

    console.locator("#composer-file").set_input_files(
        files=[{"name": "return-label.pdf", "mimeType": "application/pdf", "buffer": files.pdf()}])
    expect(console.locator(".composer .upload.ready")).to_contain_text("return-label.pdf")
    reply = console.get_by_label("Reply to the visitor")
    reply.fill("Here is your return label.")
    reply.press("Enter")
    expect(console.locator(".transcript .msg.operator .file-chip")).to_contain_text("return-label.pdf")

    expect(visitor.locator(".msg.operator .text")).to_have_text(["Here is your return label."])
    chip = visitor.locator(".msg.operator .file-chip")
    expect(chip).to_contain_text("return-label.pdf")
    with visitor.expect_download() as download:
        chip.click()
    assert download.value.suggested_filename == "return-label.pdf"
    assert Path(download.value.path()).read_bytes() == files.pdf()


def test_paste_and_drop_send_files_and_a_disguised_one_is_refused(server: Server, pages: Pages) -> None:
    visitor = pages.open(f"{server.base_url}/demo")
    visitor.get_by_role("button", name="Chat with us").click()
    box = visitor.get_by_label("Your message")
    send_by_event(visitor, "paste", "image.png", files.screenshot(400, 300), "image/png")
    expect(visitor.locator(".uploads .upload.ready")).to_have_count(1)
    box.press("Enter")  # files alone go too
    expect(visitor.locator(".msg.visitor .attachment.image")).to_have_count(1)
    send_by_event(visitor, "drop", "photo.jpg", files.photo(), "image/jpeg")
    expect(visitor.locator(".uploads .upload.ready")).to_have_count(1)
    visitor.get_by_role("button", name="Send").click()
    expect(visitor.locator(".msg.visitor .attachment.image")).to_have_count(2)
    loaded(visitor, ".msg.visitor:last-of-type .attachment img")
    expect(visitor.locator(".msg.visitor.pending")).to_have_count(0)

    send_by_event(visitor, "drop", "cute-cat.png", files.executable(), "image/png")
    refused = visitor.locator(".uploads .upload.failed")
    expect(refused).to_contain_text("Not sent: cute-cat.png is an executable (ELF), which is not accepted")
    expect(visitor.locator(".msg.visitor .attachment")).to_have_count(2)  # nothing was sent
    refused.get_by_role("button", name="Dismiss cute-cat.png").click()
    expect(refused).to_have_count(0)


def test_files_screenshot(server: Server, tmp_path: Path) -> None:
    """``python -m operator_ui.files_screenshot`` (the README's picture), in its own process as people
    run it, against a real engine: the visitor's screenshot inline, the operator's PDF to download."""
    operator = server.new_operator(name="Sam Rivera")["operator"]["email"]
    run = subprocess.run([sys.executable, "-m", "operator_ui.files_screenshot", "--base-url", server.base_url,
                          "--out", str(tmp_path), "--email", operator, "--password", PASSWORD],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert png_size(tmp_path / "widget-files.png") == (1280, 800)
