"""``python -m operator_ui.lead_screenshots`` writes the support lead's pages as PNGs (laptop
1280x800): the admin page (``admin.png``), the supervisor's staffing heat map
(``staffing-heatmap.png``) and the reports page with a drill-down (``reports.png``).

It signs in as an admin against a running engine and reads what the store holds, so run it
against one with some weeks of traffic (``python -m tests.operator_ui.lead_demo DB`` writes a
simulated week into a database for that). Like ``operator_ui.screenshots`` it talks to the engine
only over HTTP.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from operator_ui.screenshots import CHROMIUM_ARGS, LAPTOP, _save


def take(base_url: str, out: Path, email: str, password: str,
         chromium: str = "/usr/bin/chromium") -> list[Path]:
    """Write the three screenshots into ``out``; returns their paths."""
    from playwright.sync_api import expect, sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=LAPTOP)
        context.set_default_timeout(60_000)
        context.add_init_script("Intl.DateTimeFormat.prototype.resolvedOptions = () => ({timeZone: 'UTC'});")
        page = context.new_page()

        page.goto(f"{base_url}/admin")
        page.fill("#login-email", email)
        page.fill("#login-password", password)
        page.click("#login button[type=submit]")
        expect(page.locator("#operator-rows tr").first).to_be_visible(timeout=60_000)
        page.wait_for_timeout(500)
        written.append(_save(page, out, "admin.png"))

        page.goto(f"{base_url}/supervisor")
        expect(page.locator("#staffing-map svg")).to_be_visible(timeout=60_000)
        page.locator("#staffing").scroll_into_view_if_needed()
        page.evaluate("document.getElementById('staffing').scrollIntoView({block: 'start'})")
        page.wait_for_timeout(500)
        written.append(_save(page, out, "staffing-heatmap.png"))

        page.goto(f"{base_url}/reports")
        expect(page.locator("#report-kpis .kpi").first).to_be_visible(timeout=60_000)
        expect(page.locator("#by-tag svg")).to_be_visible(timeout=60_000)
        page.locator("#by-tag rect.pick").first.click()
        expect(page.locator("#drill-rows tbody tr").first).to_be_visible(timeout=60_000)
        page.evaluate("window.scrollTo(0, 0)")
        page.wait_for_timeout(500)
        written.append(_save(page, out, "reports.png"))
        browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m operator_ui.lead_screenshots",
                                     description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--admin-email", default="admin@example.com")
    parser.add_argument("--admin-password", default="admin-demo")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args(argv)
    take(args.base_url.rstrip("/"), args.out, args.admin_email, args.admin_password, args.chromium)
    return 0


if __name__ == "__main__":
    sys.exit(main())
