"""Browser fixtures: Debian's chromium driven by Playwright against a real uvicorn server running the
real engine (fresh SQLite database per test, a small knowledge base ingested once per session).

``playwright install`` cannot download here, so the browser is /usr/bin/chromium.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from engine.service.bot import Bot
from engine.settings import Settings
from tests.engine.actions.conftest import TOKEN, Shop
from tests.engine.conftest import Server, build_index, run_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
PASSWORD = "correct-horse"  # what Server.new_operator gives every account
# A shared, often loaded 2-core machine: an expectation waits up to 20 s for the engine's work (a bot
# turn can take seconds under load), not Playwright's 5 s; set once here for every browser test (a
# module setting it for itself would change it for the modules run after it too).
expect.set_options(timeout=20_000)


@pytest.fixture(scope="session")
def ui_kb(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Path:
    return build_index(tmp_path_factory.mktemp("ui-kb"), embedder)


@pytest.fixture(scope="session")
def ui_bot(ui_kb: Path, embedder: Any) -> Bot:
    settings = Settings(environment="test", secret_key=secrets.token_urlsafe(32), index_dir=ui_kb)
    return Bot.load(settings, embedder)


@pytest.fixture
def server(tmp_path: Path, ui_kb: Path, ui_bot: Bot) -> Iterator[Server]:
    """A fresh engine per test: routing sees the whole floor, so tests never share operators."""
    settings = Settings(environment="test", secret_key=secrets.token_urlsafe(32), index_dir=ui_kb,
                        database_url=f"sqlite:///{tmp_path / 'baton.db'}", routing_interval_seconds=0.3,
                        attachment_dir=tmp_path / "files")
    yield from run_server(settings, ui_bot)


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    """The sample shop on its own socket and SQLite file (its orders: ``engine.integrations.sample_shop``)."""
    running = Shop(db=tmp_path / "shop.db").start()
    yield running
    running.stop()


@pytest.fixture
def shop_server(tmp_path: Path, ui_kb: Path, ui_bot: Bot, shop: Shop) -> Iterator[Server]:
    """A fresh engine that looks customers up in ``shop`` (no cache: each look-up asks the shop)."""
    settings = Settings(
        environment="test",
        secret_key=secrets.token_urlsafe(32),
        index_dir=ui_kb,
        database_url=f"sqlite:///{tmp_path / 'baton.db'}",
        routing_interval_seconds=0.3,
        integration_url=shop.base_url,
        integration_auth_value=f"Bearer {TOKEN}",
        integration_timeout_seconds=1.0,
        integration_cache_seconds=0,
    )
    yield from run_server(settings, ui_bot)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    """Per module: while Playwright's sync API runs, the thread counts as inside an event loop, so
    it must not outlive these tests (others call asyncio.run)."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


class Pages:
    """Opens pages in their own browser contexts (own storage, like separate people) and collects
    any script error a page raises, so that a test fails on one."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.contexts: list[BrowserContext] = []
        self.errors: list[str] = []

    def open(self, url: str, viewport: dict[str, int] | None = None, init_script: str | None = None) -> Page:
        context = self.browser.new_context(viewport=viewport or LAPTOP)
        context.set_default_timeout(20_000)
        if init_script:
            context.add_init_script(init_script)
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: self.errors.append(f"{url}: {error}"))
        page.goto(url)
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def pages(browser: Browser) -> Iterator[Pages]:
    opened = Pages(browser)
    yield opened
    opened.close()
    assert opened.errors == [], opened.errors


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.fill("#login-email", email)
    page.fill("#login-password", password)
    page.click("#login button[type=submit]")


def add_canned(server: Server, shortcut: str, title: str, text: str) -> None:
    admin = server.new_operator(role="admin", name="Ada Admin")
    with httpx.Client(base_url=server.base_url) as http:
        http.post("/api/admin/canned", json={"shortcut": shortcut, "title": title, "text": text},
                  headers={"Authorization": f"Bearer {admin['token']}"}).raise_for_status()
