"""Handoff settings on the admin page in Chromium: thresholds, the VIP rule and always-human topics
saved to the configured file, refused with the reason when an offer would come after the handover,
audited and live on another admin's page; through the API, the running bot's detector uses them."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

import handoff
from engine.settings import Settings
from tests.engine.conftest import Server, run_server
from tests.operator_ui.conftest import Pages, sign_in

pytestmark = pytest.mark.browser
DEFAULTS = Path(handoff.__file__).parent / "defaults.toml"


@pytest.fixture
def configured(tmp_path: Path, ui_kb: Path) -> Iterator[Server]:
    """An engine whose handoff settings live in a file of its own (no bot: nothing else shares them)."""
    shutil.copy(DEFAULTS, tmp_path / "handoff.toml")
    settings = Settings(
        environment="test",
        secret_key=secrets.token_urlsafe(32),
        index_dir=ui_kb,
        database_url=f"sqlite:///{tmp_path / 'baton.db'}",
        handoff_config=tmp_path / "handoff.toml",
    )
    yield from run_server(settings, None)


def test_handoff_settings_saved_refused_and_live(configured: Server, pages: Pages) -> None:
    server = configured
    pages_of = []
    for name in ("Ada Admin", "Otto Admin"):
        account = server.new_operator(role="admin", name=name)
        page = pages.open(f"{server.base_url}/admin")
        sign_in(page, account["operator"]["email"])
        expect(page.locator("#connection")).to_have_text("Live")
        pages_of.append(page)
    page, other = pages_of
    form = page.locator("#handoff-form")
    expect(form.locator("[name='low_confidence.escalate_at']")).to_have_value("0.82")
    expect(page.locator("#handoff-saved")).to_contain_text("handoff.toml")

    form.locator("[name='low_confidence.escalate_at']").fill("0.9")
    form.locator("[name=vip_escalate]").uncheck()
    form.locator("[name=topics]").fill("legal, Complaint")
    form.locator("button[type=submit]").click()
    expect(page.locator("#audit")).to_contain_text("changed handoff:settings")
    saved = handoff.HandoffConfig.load(server.settings.handoff_config)
    assert (saved.low_confidence.escalate_at, saved.rules.vip_escalate, saved.rules.topics) == (
        0.9,
        False,
        ["complaint", "legal"],
    )
    expect(other.locator("#handoff-form [name='low_confidence.escalate_at']")).to_have_value("0.9")  # live
    expect(other.locator("#handoff-form [name=topics]")).to_have_value("complaint, legal")

    form.locator("[name='frustration.offer_at']").fill("0.8")
    form.locator("[name='frustration.escalate_at']").fill("0.7")
    form.locator("button[type=submit]").click()
    expect(page.locator("#handoff-error")).to_contain_text(
        "offer_at (0.8) must not be above escalate_at (0.7)"
    )
    assert handoff.HandoffConfig.load(server.settings.handoff_config).frustration.offer_at == 0.45


def test_the_running_detector_uses_new_thresholds(server: Server) -> None:
    admin = server.new_operator(role="admin", name="Ada Admin")
    auth = {"Authorization": f"Bearer {admin['token']}"}
    config = server.app.state.ctx.bot.detector.config
    with server.http() as http:
        original = http.get("/api/admin/handoff", headers=auth).json()
        try:
            changed = {**original, "explicit_request": {"offer_at": 0.3, "escalate_at": 0.99}}
            assert http.put("/api/admin/handoff", json=changed, headers=auth).status_code == 200
            assert (config.explicit_request.offer_at, config.explicit_request.escalate_at) == (0.3, 0.99)
            assert http.get("/api/admin/handoff", headers=auth).json()["saved_to"] is None  # this run only
        finally:
            http.put("/api/admin/handoff", json=original, headers=auth).raise_for_status()
    assert config.explicit_request.escalate_at == original["explicit_request"]["escalate_at"]
