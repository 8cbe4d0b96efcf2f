"""``python -m operator_ui.after_hours_screenshot`` writes the widget after hours as a PNG
(``widget-after-hours.png``, laptop 1280x800): the honest notice after asking for a person (when the
team opens, in its own zone) with the offer to leave a message; it checks the closed banner shown
before writing and that the leave-a-message form opens.

It signs in as an admin against a running engine (``baton users demo`` gives one) and gives every
team hours, Monday to Friday 9:00 to 17:00, in a time zone where it is night right now (it creates
a team when there is none), so the desk is closed for real, on the engine's own clock. It puts each
team's hours back as they were at the end. Like ``operator_ui.screenshots`` it talks to the engine
only over HTTP.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from operator_ui.screenshots import CHROMIUM_ARGS, LAPTOP, _bearer, _login, _save

ZONES = ("Europe/Berlin", "America/New_York", "America/Los_Angeles", "Asia/Tokyo", "Australia/Sydney",
         "Asia/Kolkata", "America/Sao_Paulo", "Pacific/Auckland")
WEEKDAYS = [{"day": day, "opens": "09:00", "closes": "17:00"} for day in ("mon", "tue", "wed", "thu", "fri")]
NIGHT = 21  # the local hour looked for: "we open tomorrow at 9:00, in 12 hours"


def night_zone(now: datetime) -> str:
    """A zone where it is evening on a weekday now (closed, opening the next morning); the nearest."""
    def distance(zone: str) -> tuple[int, float]:
        local = now.astimezone(ZoneInfo(zone))
        weekend = local.weekday() in (4, 5)  # Friday or Saturday evening opens on Monday: a longer wait
        return (1 if weekend else 0, abs(local.hour + local.minute / 60 - NIGHT))

    return min(ZONES, key=distance)


def take(base_url: str, out: Path, admin_email: str, admin_password: str,
         chromium: str = "/usr/bin/chromium") -> Path:
    from playwright.sync_api import expect, sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    with httpx.Client(base_url=base_url, timeout=60) as http:
        admin = _bearer(_login(http, admin_email, admin_password))
        teams = http.get("/api/admin/teams", headers=admin).json()
        if not teams:
            http.post("/api/admin/teams", headers=admin, json={"name": "Support"}).raise_for_status()
            teams = http.get("/api/admin/teams", headers=admin).json()
        before: dict[int, dict[str, Any]] = {t["id"]: {
            "timezone": t["timezone"], "weekly": t["hours"], "holiday_country": t["holiday_country"],
            "holiday_subdivision": t["holiday_subdivision"], "reason": "after-hours screenshot: put back"}
            for t in teams}
        zone = night_zone(datetime.now(UTC))
        try:
            for team in teams:
                http.put(f"/api/admin/teams/{team['id']}/hours", headers=admin, json={
                    "timezone": zone, "weekly": WEEKDAYS, "reason": "after-hours screenshot"},
                ).raise_for_status()
            with sync_playwright() as driver:
                browser = driver.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
                context = browser.new_context(viewport=LAPTOP)
                context.set_default_timeout(60_000)
                visitor = context.new_page()
                visitor.goto(f"{base_url}/demo")
                visitor.get_by_role("button", name="Chat with us").click()
                expect(visitor.locator(".hours-banner")).to_be_visible()
                box = visitor.get_by_label("Your message")
                box.fill("My parcel never arrived. I want to talk to a person, please.")
                box.press("Enter")
                notice = visitor.locator(".msg.system", has_text="nobody can answer you this minute")
                expect(notice).to_be_visible()
                expect(visitor.get_by_role("button", name="Leave a message")).to_be_visible()
                visitor.wait_for_timeout(500)
                path = _save(visitor, out, "widget-after-hours.png")
                visitor.get_by_role("button", name="Leave a message").click()  # the form opens
                expect(visitor.get_by_label("Email or phone number to answer you on")).to_be_visible()
                browser.close()
        finally:
            for team_id, hours in before.items():
                http.put(f"/api/admin/teams/{team_id}/hours", headers=admin, json=hours)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m operator_ui.after_hours_screenshot",
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
