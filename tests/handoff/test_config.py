"""Configuration round-trips through TOML and refuses what it does not know."""

from __future__ import annotations

import pytest

from handoff import HandoffConfig
from knowledge import InputError


def test_defaults_file_loads_and_round_trips(tmp_path):
    config = HandoffConfig.load()
    config.frustration.escalate_at = 0.71
    config.rules.topics = ["legal", "chargeback"]
    path = tmp_path / "handoff.toml"
    config.save(path)
    assert HandoffConfig.load(path) == config


def test_unknown_setting_is_named(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[frustration]\nescalate_at = 0.7\nescalate_after = 3\n")
    with pytest.raises(InputError, match="frustration.escalate_after"):
        HandoffConfig.load(path)


def test_wrong_type_is_named(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[low_confidence]\nstreak = "two"\n')
    with pytest.raises(InputError, match="low_confidence.streak"):
        HandoffConfig.load(path)
