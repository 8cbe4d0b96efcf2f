"""Settings: environment and TOML sources, and the refusal of placeholder secrets outside development."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from engine.settings import Settings


def test_placeholder_secret_is_refused_outside_development() -> None:
    with pytest.raises(ValidationError, match="BATON_SECRET_KEY is a placeholder"):
        Settings(environment="production")
    assert Settings(environment="development").secret_key  # the dev default is fine in development


def test_environment_overrides_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "baton.toml"
    config.write_text('database_url = "sqlite:///from-toml.db"\nmax_message_chars = 99\n')
    monkeypatch.setenv("BATON_CONFIG", str(config))
    monkeypatch.setenv("BATON_MAX_MESSAGE_CHARS", "123")
    settings = Settings()
    assert settings.database_url == "sqlite:///from-toml.db"
    assert settings.max_message_chars == 123
    assert settings.is_sqlite


def test_unknown_setting_is_an_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "baton.toml"
    config.write_text("databse_url = 'typo'\n")
    monkeypatch.setenv("BATON_CONFIG", str(config))
    with pytest.raises(ValidationError, match="databse_url"):
        Settings()
