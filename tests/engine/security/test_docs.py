"""docs/security.md and the README's configuration table name every rate-limit setting, with the
default the settings class has; the close codes the sockets use are listed."""

from __future__ import annotations

from pathlib import Path

from engine.api import limits, ws
from engine.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
SECURITY = (ROOT / "docs" / "security.md").read_text()
README = (ROOT / "README.md").read_text()


def test_every_limit_setting_is_documented_with_its_default() -> None:
    names = [n for n in Settings.model_fields if n.startswith("limit_")] + ["rate_limits"]
    assert len(names) == 8
    for name in names:
        variable, default = f"`BATON_{name.upper()}`", Settings.model_fields[name].default
        shown = f"`{str(default).lower()}`" if isinstance(default, bool) else f"`{default}`"
        assert f"| {variable} | {shown} |" in SECURITY, name
        assert variable in README and shown in README, name


def test_socket_close_codes_are_documented() -> None:
    for code in (limits.CLOSE_CODE, ws.UNSUPPORTED_DATA, ws.TOO_BIG, ws.INVALID):
        assert f"**{code}**" in SECURITY
