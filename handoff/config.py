"""Thresholds and rules of the detector, read from TOML (``handoff/defaults.toml`` by default).

Every number the policy compares against lives here, so that ``baton eval sweep`` can search them
under a cost and write the chosen ones back with ``save``.
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from knowledge import InputError

DEFAULTS = Path(__file__).with_name("defaults.toml")


@dataclass
class LowConfidenceConfig:
    offer_at: float = 0.5  # score = 1 - answer confidence
    escalate_at: float = 0.82
    streak: int = 2  # answers in a row that count as a streak
    streak_factor: float = 1.25  # multiplies the weakest answer's score of a streak


@dataclass
class ExplicitRequestConfig:
    offer_at: float = 0.45  # "how do I reach support?" scores 0.5
    escalate_at: float = 0.6  # "get me a human" scores about 0.9 and more


@dataclass
class FrustrationConfig:
    offer_at: float = 0.45
    escalate_at: float = 0.6
    window: int = 3  # user turns the sentiment trend looks back over
    repeat_similarity: float = 0.88  # cosine at which a user turn repeats an earlier one
    pause_minutes: float = 10.0  # silence after which a repeat (or "hello?") means the visitor is stuck
    sentiment_model: str = ""  # a local transformers text-classification model; empty: VADER lexicon


@dataclass
class RulesConfig:
    vip_escalate: bool = True
    topics: list[str] = field(default_factory=list)  # contact topics/tags that always go to a person


@dataclass
class HandoffConfig:
    low_confidence: LowConfidenceConfig = field(default_factory=LowConfidenceConfig)
    explicit_request: ExplicitRequestConfig = field(default_factory=ExplicitRequestConfig)
    frustration: FrustrationConfig = field(default_factory=FrustrationConfig)
    rules: RulesConfig = field(default_factory=RulesConfig)

    @classmethod
    def load(cls, path: str | Path | None = None) -> HandoffConfig:
        """Read ``path`` (the shipped defaults when None); unknown keys are an error, not ignored."""
        source = Path(path) if path is not None else DEFAULTS
        try:
            data = tomllib.loads(source.read_text())
        except FileNotFoundError as exc:
            raise InputError("handoff configuration not found", path=str(source)) from exc
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"not valid TOML: {exc}", path=str(source)) from exc
        config = cls()
        for section, values in data.items():
            target = getattr(config, section, None)
            if target is None or not isinstance(values, dict):
                raise InputError("unknown section", path=str(source), field=section)
            names = {f.name: f for f in fields(target)}
            for key, value in values.items():
                if key not in names:
                    raise InputError("unknown setting", path=str(source), field=f"{section}.{key}")
                expected = type(getattr(target, key))
                if expected is float and isinstance(value, int) and not isinstance(value, bool):
                    value = float(value)
                if not isinstance(value, expected):
                    raise InputError(
                        f"expected {expected.__name__}", path=str(source), field=f"{section}.{key}"
                    )
                setattr(target, key, value)
        return config

    def signal_settings(self) -> tuple:
        """The settings the signal scores depend on (the rest only moves thresholds)."""
        return (
            self.low_confidence.streak,
            self.low_confidence.streak_factor,
            self.frustration.window,
            self.frustration.repeat_similarity,
            self.frustration.pause_minutes,
            self.frustration.sentiment_model,
        )

    def save(self, path: str | Path) -> None:
        Path(path).write_text(to_toml(asdict(self)))


def to_toml(data: dict[str, dict[str, Any]]) -> str:
    """The flat two-level TOML this configuration needs (tomllib reads but does not write)."""
    lines: list[str] = []
    for section, values in data.items():
        lines.append(f"[{section}]")
        lines.extend(f"{key} = {_value(value)}" for key, value in values.items())
        lines.append("")
    return "\n".join(lines)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(round(value, 4))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")
