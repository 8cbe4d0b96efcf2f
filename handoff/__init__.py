"""The handoff detector: transcript types, signals, the policy and the handoff packet.

A plain library (no database, no web, no global state). Names load lazily so that importing the
package does not pull in numpy models or the embedder until they are used.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "Turn": "handoff.transcript",
    "Transcript": "handoff.transcript",
    "ContactInfo": "handoff.transcript",
    "HandoffConfig": "handoff.config",
    "SignalResult": "handoff.signals",
    "Detector": "handoff.detector",
    "Decision": "handoff.policy",
    "Packet": "handoff.packet",
    "build_packet": "handoff.packet",
    "small_talk": "handoff.lexicon",
    "same_answer": "handoff.signals",
    "surer": "handoff.signals",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'handoff' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
