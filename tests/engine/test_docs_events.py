"""docs/architecture.md names every event type the engine publishes (engine.events), so a new event
cannot ship undocumented."""

from __future__ import annotations

import typing
from pathlib import Path

from engine import events

DOC = (Path(__file__).resolve().parents[2] / "docs" / "architecture.md").read_text()


def event_types() -> list[str]:
    """Every literal ``type`` of every model in the ``Event`` union."""
    union = typing.get_args(events.Event)[0]
    found = []
    for model in typing.get_args(union):
        found += typing.get_args(model.model_fields["type"].annotation)
    return found


def test_every_event_type_is_documented() -> None:
    types = event_types()
    assert {"message.created", "conversation.queued", "message.delivered", "presence.updated"} <= set(types)
    assert [t for t in types if f"| `{t}` |" not in DOC] == []
