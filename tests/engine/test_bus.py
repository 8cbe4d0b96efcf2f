"""The in-process bus: stream fan-out, dynamic subscriptions and the overflow that forces a resync."""

from __future__ import annotations

import pytest

from engine.bus import InProcessBus, conversation_stream
from engine.events import Typing, parse_event

pytestmark = pytest.mark.anyio


def _typing(conversation_id: int, on: bool = True) -> Typing:
    return Typing(conversation_id=conversation_id, role="visitor", on=on)


async def test_subscribers_get_only_their_streams() -> None:
    bus = InProcessBus()
    first = bus.subscribe(conversation_stream(1))
    both = bus.subscribe(conversation_stream(1), conversation_stream(2))
    await bus.publish(conversation_stream(2), _typing(2))
    await bus.publish(conversation_stream(1), _typing(1))
    assert await first.get() == (conversation_stream(1), _typing(1))
    assert [await both.get(), await both.get()] == [(conversation_stream(2), _typing(2)),
                                                    (conversation_stream(1), _typing(1))]


async def test_removed_and_closed_subscriptions_receive_nothing() -> None:
    bus = InProcessBus()
    subscription = bus.subscribe(conversation_stream(1))
    subscription.remove(conversation_stream(1))
    assert bus.subscribers(conversation_stream(1)) == 0
    subscription.add(conversation_stream(3))
    subscription.close()
    await bus.publish(conversation_stream(3), _typing(3))
    with pytest.raises(ConnectionResetError):
        await subscription.get()
    assert not subscription.overflowed


async def test_a_slow_subscriber_is_closed_with_overflow_not_blocking_the_publisher() -> None:
    bus = InProcessBus(backlog=2)
    slow = bus.subscribe(conversation_stream(1))
    for _ in range(5):
        await bus.publish(conversation_stream(1), _typing(1))
    assert slow.overflowed
    with pytest.raises(ConnectionResetError):
        await slow.get()


def test_events_round_trip_through_json() -> None:
    event = _typing(7, on=False)
    assert parse_event(event.model_dump_json()) == event
    with pytest.raises(ValueError, match="extra"):
        parse_event({"type": "typing", "conversation_id": 1, "role": "visitor", "on": True, "surprise": 1})


async def test_ids_grow_per_stream_and_a_backlog_holds_what_came_after_an_id() -> None:
    bus = InProcessBus(replay=3)
    subscription = bus.subscribe(conversation_stream(1), conversation_stream(2))
    start = (await bus.backlogs({conversation_stream(1): None}))[conversation_stream(1)].head
    for n in range(4):
        await bus.publish(conversation_stream(1), _typing(1, on=n % 2 == 0))
    await bus.publish(conversation_stream(2), _typing(2))
    got = [await subscription.receive() for _ in range(5)]
    ones = [d.id for d in got if d.stream == conversation_stream(1)]
    assert ones == [start + 1, start + 2, start + 3, start + 4]
    found = await bus.backlogs({conversation_stream(1): start + 2, conversation_stream(3): None})
    assert found[conversation_stream(1)].complete
    assert [i for i, _ in found[conversation_stream(1)].events] == [start + 3, start + 4]
    assert found[conversation_stream(1)].head == start + 4
    assert found[conversation_stream(3)].events == [] and found[conversation_stream(3)].complete
    # the log keeps 3: after start + 1 it still has everything (start + 2 ..); after start it does not
    assert (await bus.backlogs({conversation_stream(1): start + 1}))[conversation_stream(1)].complete
    assert not (await bus.backlogs({conversation_stream(1): start}))[conversation_stream(1)].complete
    assert not (await bus.backlogs({conversation_stream(1): start + 5}))[conversation_stream(1)].complete


async def test_a_log_made_again_starts_above_every_id_the_old_one_gave() -> None:
    bus = InProcessBus(replay=10, replay_streams=1)
    await bus.publish(conversation_stream(1), _typing(1))
    old = (await bus.backlogs({conversation_stream(1): None}))[conversation_stream(1)].head
    await bus.publish(conversation_stream(2), _typing(2))  # evicts stream 1's log
    again = (await bus.backlogs({conversation_stream(1): old}))[conversation_stream(1)]
    assert not again.complete and again.head > old  # an old id reads as too old, not as a position
