"""The reports page in Chromium on the hand-checked history of tests/engine/reports: the figures,
a drill-down from the hour heat strip and from a tag's bar to the conversations behind them, and
the CSV of what is listed."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from playwright.sync_api import expect

from engine.db import create_all, make_engine, session_scope
from tests.engine.conftest import Server
from tests.engine.reports.test_reports import seed
from tests.operator_ui.conftest import Pages, sign_in

pytestmark = pytest.mark.browser


def test_report_figures_drill_down_and_csv(server: Server, pages: Pages, tmp_path: Path) -> None:
    engine = make_engine(server.settings.database_url)
    create_all(engine)
    with session_scope(engine) as session:
        ids = seed(session)
    engine.dispose()
    lead = server.new_operator(role="supervisor", name="Lee Lead")
    page = pages.open(f"{server.base_url}/reports")
    sign_in(page, lead["operator"]["email"])
    page.fill("#window [name=start]", "2025-02-03")
    page.fill("#window [name=end]", "2025-02-10")
    page.fill("#window [name=tz]", "UTC")
    page.click("#window button[type=submit]")
    kpis = page.locator("#report-kpis")
    expect(kpis.locator(".kpi", has_text="Conversations")).to_contain_text("5")
    expect(kpis.locator(".kpi", has_text="Bot containment")).to_contain_text("20%")
    expect(kpis.locator(".kpi", has_text="First-contact resolution")).to_contain_text("2 of 3 resolved")
    expect(page.locator("#per-operator-table tr", has_text="Ada")).to_contain_text("5.0 / 5 (1)")

    page.locator('#hours rect[data-row="0"][data-column="14"]').click()
    expect(page.locator("#drill-title")).to_have_text("Conversations: started 14:00–14:59")
    expect(page.locator("#drill-rows tbody tr")).to_have_count(2)
    expect(page.locator(f'#drill-rows tr[data-conversation-id="{ids["three"]}"]')).to_contain_text("Bo")

    page.get_by_role("button", name="tag billing: list its conversations").click()
    expect(page.locator("#drill-title")).to_have_text("Conversations: tag billing")
    expect(page.locator("#drill-rows tbody tr")).to_have_count(3)
    with page.expect_download() as download:
        page.click("#csv")
    saved = tmp_path / "export.csv"
    download.value.save_as(saved)
    rows = list(csv.DictReader(saved.open()))
    assert [int(r["id"]) for r in rows] == [ids["one"], ids["two"], ids["four"]]

    page.fill("#window [name=tz]", "Mars/Olympus")
    page.click("#window button[type=submit]")
    expect(page.locator("#report-error")).to_contain_text("unknown time zone 'Mars/Olympus'")
