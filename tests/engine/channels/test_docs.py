"""docs/channels.md documents every channel setting and every webhook route."""

from __future__ import annotations

from pathlib import Path

from engine.app import create_app
from engine.settings import Settings

DOC = (Path(__file__).resolve().parents[3] / "docs" / "channels.md").read_text()
CHANNEL_SETTINGS = ("public_url", "sms_", "messenger_", "instagram_", "email_", "smtp_", "channel_",
                    "delivery_")


def test_every_channel_setting_is_documented() -> None:
    names = [n for n in Settings.model_fields if n.startswith(CHANNEL_SETTINGS)]
    assert len(names) > 15
    assert [n for n in names if f"`{n}`" not in DOC] == []


def test_every_webhook_is_documented() -> None:
    paths = [p for p in create_app(Settings(), load=False).openapi()["paths"] if p.startswith("/webhooks/")]
    assert sorted(paths) == ["/webhooks/email", "/webhooks/messenger", "/webhooks/sms"]
    assert [p for p in paths if f"`POST {p}`" not in DOC] == []
