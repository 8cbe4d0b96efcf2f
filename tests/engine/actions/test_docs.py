"""docs/integrations.md documents every integration setting, every route of the actions router and
the event it emits."""

from __future__ import annotations

import re
from pathlib import Path

from engine.api.actions import router
from engine.events import ActionUpdated
from engine.settings import Settings

DOC = (Path(__file__).resolve().parents[3] / "docs" / "integrations.md").read_text()


def test_every_integration_setting_is_documented() -> None:
    names = [n for n in Settings.model_fields if n.startswith("integration_") or n == "actions"]
    assert len(names) == 7
    assert [n for n in names if f"`{n}`" not in DOC] == []


def test_every_route_and_the_event_are_documented() -> None:
    routes = [
        (method, re.sub(r"\{\w+\}", "{id}", route.path))
        for route in router.routes
        for method in route.methods
    ]
    assert len(routes) == 7
    assert [f"{m} {p}" for m, p in routes if f"{m} {p}" not in DOC.replace("`", "")] == []
    assert f"`{ActionUpdated.model_fields['type'].default}`" in DOC
