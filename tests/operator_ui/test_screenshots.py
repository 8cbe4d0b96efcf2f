"""``python -m operator_ui.screenshots`` plays its shift against a real server (with the sample shop
on a socket, as ``make run`` has it, so the console's Account tab is shot too) and writes PNGs of the
right sizes (laptop 1280x800, the widget and the console also at phone width 390x844)."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import pytest

from tests.engine.conftest import Server
from tests.operator_ui.conftest import PASSWORD

pytestmark = pytest.mark.browser


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", header[16:24])


def test_screenshots_of_every_page_with_real_data(shop_server: Server, tmp_path: Path) -> None:
    server = shop_server
    operator = server.new_operator(name="Sam Rivera")["operator"]["email"]
    admin = server.new_operator(role="admin", name="Lee Lead")["operator"]["email"]
    # its own process, as people run it (and Playwright's sync API wants a thread without a loop)
    run = subprocess.run([sys.executable, "-m", "operator_ui.screenshots", "--base-url", server.base_url,
                          "--out", str(tmp_path), "--email", operator, "--password", PASSWORD,
                          "--admin-email", admin, "--admin-password", PASSWORD],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    sizes = {path.name: png_size(path) for path in tmp_path.glob("*.png")}
    laptop = (1280, 800)
    assert sizes == {"console-account.png": laptop, "home.png": laptop, "widget-laptop.png": laptop,
                     "console-laptop.png": laptop,
                     "widget-phone.png": (390, 844), "supervisor-laptop.png": laptop,
                     "console-phone.png": (390, 844), "console-phone-inbox.png": (390, 844)}
