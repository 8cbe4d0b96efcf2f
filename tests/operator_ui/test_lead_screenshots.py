"""``python -m operator_ui.lead_screenshots`` against a real server holding a simulated week: the
admin page, the staffing heat map and the reports page, as 1280x800 PNGs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.engine.conftest import Server
from tests.engine.staffing.desk import seeded_week, store
from tests.operator_ui.conftest import PASSWORD
from tests.operator_ui.test_screenshots import png_size
from tests.operator_ui.test_staffing import a_week_ago

pytestmark = pytest.mark.browser


def test_lead_screenshots(server: Server, tmp_path: Path) -> None:
    store(server.settings.database_url, seeded_week(start=a_week_ago()), issues=True)
    admin = server.new_operator(role="admin", name="Lee Lead")["operator"]["email"]
    run = subprocess.run([sys.executable, "-m", "operator_ui.lead_screenshots", "--base-url", server.base_url,
                          "--out", str(tmp_path), "--admin-email", admin, "--admin-password", PASSWORD],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert {p.name: png_size(p) for p in tmp_path.glob("*.png")} == {
        name: (1280, 800) for name in ("admin.png", "staffing-heatmap.png", "reports.png")}
