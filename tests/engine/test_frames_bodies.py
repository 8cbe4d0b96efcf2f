"""An event relayed to many operator sockets is serialised once (``frames.Bodies``), by identity: an
equal but other event is serialised on its own, and the cache stays bounded."""

from __future__ import annotations

import json

from engine.api import frames
from engine.events import QueueUpdated, Typing


def test_one_event_is_serialised_once_and_an_equal_other_one_again() -> None:
    bodies = frames.Bodies(size=2)
    event = Typing(conversation_id=7, role="visitor", on=True)
    first = bodies.of(event)
    assert bodies.of(event) is first  # the same string: not serialised again
    twin = Typing(conversation_id=7, role="visitor", on=True)
    assert bodies.of(twin) == first and bodies.of(twin) is not first
    for n in range(3):  # older entries leave once more than ``size`` are kept
        bodies.of(Typing(conversation_id=n, role="visitor", on=False))
    assert len(bodies._kept) == 2
    assert bodies.of(event) == first and bodies.of(event) is not first


def test_stamped_splices_the_stamp_into_the_cached_body() -> None:
    event = QueueUpdated(queued=0)
    frame = json.loads(frames.stamped(event, "operators", 1796))
    assert frame == {**json.loads(event.model_dump_json()), "stream": "operators", "id": 1796}
    replayed = json.loads(frames.stamped(event, "operators", None))
    assert replayed == {**json.loads(event.model_dump_json()), "stream": "operators"}
