"""RedisBus against the real Redis: delivery between buses (as between workers), typed events back,
overflow, the resync after a lost connection, and the cross-worker lock."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import redis.asyncio as redis
from redis.exceptions import LockError

from engine.bus import OPERATORS, conversation_stream
from engine.events import ConversationChanged, MessageCreated, QueueInfo, Typing
from engine.models import MessagePublic
from engine.redis_bus import RedisBus
from tests.engine.scale.cluster import REDIS_URL

pytestmark = [pytest.mark.anyio, pytest.mark.redis]


@pytest.fixture
def prefix() -> str:
    return f"baton-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def buses(prefix: str) -> AsyncIterator[tuple[RedisBus, RedisBus]]:
    """Two buses on one prefix: what two workers hold."""
    first = await RedisBus.connect(REDIS_URL, prefix=prefix, backlog=4)
    second = await RedisBus.connect(REDIS_URL, prefix=prefix, backlog=4)
    yield first, second
    await first.close()
    await second.close()


def _typing(conversation_id: int, on: bool = True) -> Typing:
    return Typing(conversation_id=conversation_id, role="visitor", on=on)


async def _get(subscription: object) -> object:
    return await asyncio.wait_for(subscription.get(), 5)  # type: ignore[attr-defined]


async def test_an_event_published_on_one_worker_reaches_subscribers_on_both(
        buses: tuple[RedisBus, RedisBus]) -> None:
    first, second = buses
    here, there = first.subscribe(conversation_stream(1)), second.subscribe(conversation_stream(1))
    message = MessageCreated(conversation_id=1, seq=3, message=MessagePublic(
        id=9, conversation_id=1, seq=3, role="operator", visibility="public", text="On its way",
        created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)))
    await first.publish(conversation_stream(1), message)
    assert await _get(there) == (conversation_stream(1), message)
    assert await _get(here) == (conversation_stream(1), message)


async def test_events_come_back_as_the_same_typed_models(buses: tuple[RedisBus, RedisBus]) -> None:
    first, second = buses
    subscription = second.subscribe(OPERATORS)
    change = ConversationChanged(type="conversation.queued", conversation_id=4, seq=2, state="queued",
                                 from_state="bot", tags=["billing"], actor="bot",
                                 queue=QueueInfo(position=1, wait_seconds=90.0))
    await first.publish(OPERATORS, change)
    stream, event = await _get(subscription)  # type: ignore[misc]
    assert isinstance(event, ConversationChanged) and event == change


async def test_subscribers_get_only_their_streams_and_prefixes_do_not_mix(
        buses: tuple[RedisBus, RedisBus]) -> None:
    first, second = buses
    other = await RedisBus.connect(REDIS_URL, prefix=f"{first.prefix}-other")
    try:
        one, two = second.subscribe(conversation_stream(1)), second.subscribe(conversation_stream(2))
        stranger = other.subscribe(conversation_stream(1))
        await first.publish(conversation_stream(2), _typing(2))
        await first.publish(conversation_stream(1), _typing(1))
        assert await _get(one) == (conversation_stream(1), _typing(1))
        assert await _get(two) == (conversation_stream(2), _typing(2))
        await asyncio.sleep(0.2)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(stranger.get(), 0.2)
    finally:
        await other.close()


async def test_one_workers_events_arrive_in_publish_order(buses: tuple[RedisBus, RedisBus]) -> None:
    first, second = buses
    subscription = second.subscribe(conversation_stream(5))
    for seq in range(4):
        await first.publish(conversation_stream(5), _typing(5, on=seq % 2 == 0))
    received = [await _get(subscription) for _ in range(4)]
    assert [event.on for _, event in received] == [True, False, True, False]  # type: ignore[attr-defined]


async def test_a_slow_subscriber_overflows_without_holding_back_the_others(
        buses: tuple[RedisBus, RedisBus]) -> None:
    first, second = buses  # backlog 4
    slow, reader = second.subscribe(conversation_stream(7)), second.subscribe(conversation_stream(7))
    for n in range(6):
        await first.publish(conversation_stream(7), _typing(7, on=n % 2 == 0))
        await _get(reader)
    assert slow.overflowed
    with pytest.raises(ConnectionResetError):
        await _get(slow)
    assert not reader.overflowed


async def test_a_lost_connection_closes_subscriptions_for_resync_and_the_feed_comes_back(
        buses: tuple[RedisBus, RedisBus]) -> None:
    first, second = buses
    before = second.subscribe(conversation_stream(8))
    admin = redis.Redis.from_url(REDIS_URL)
    try:
        clients = await admin.client_list()
        listener = [c for c in clients if c["name"] == f"{second.client_name}:sub"]
        assert len(listener) == 1
        await admin.client_kill_filter(_id=listener[0]["id"])
    finally:
        await admin.aclose()
    with pytest.raises(ConnectionResetError):
        await _get(before)
    assert before.overflowed  # the socket closes with "resync" and the client replays from the store
    for _ in range(100):
        if second.connected and second.reconnects:
            break
        await asyncio.sleep(0.05)
    assert second.reconnects == 1
    after = second.subscribe(conversation_stream(8))
    await first.publish(conversation_stream(8), _typing(8))
    assert await _get(after) == (conversation_stream(8), _typing(8))


async def test_publishing_without_redis_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    bus = RedisBus("redis://127.0.0.1:1/0", prefix="nowhere")
    try:
        await bus.publish(conversation_stream(1), _typing(1))
    finally:
        await bus.close()
    assert "could not publish" in caplog.text


async def test_connect_refuses_to_start_without_redis() -> None:
    with pytest.raises(ConnectionError, match="did not answer"):
        await RedisBus.connect("redis://127.0.0.1:1/0", prefix="nowhere", timeout=1)


async def test_the_lock_admits_one_holder_across_workers(buses: tuple[RedisBus, RedisBus]) -> None:
    holders, most = 0, 0

    async def hold(bus: RedisBus) -> None:
        nonlocal holders, most
        async with bus.lock("routing"):
            holders += 1
            most = max(most, holders)
            await asyncio.sleep(0.02)
            holders -= 1

    await asyncio.gather(*(hold(bus) for bus in buses * 4))
    assert most == 1


async def test_the_lock_gives_up_after_its_wait(buses: tuple[RedisBus, RedisBus]) -> None:
    first, second = buses
    async with first.lock("routing"):
        with pytest.raises(LockError, match="still held"):
            async with second.lock("routing", wait=0.2):
                pass


async def test_ids_given_on_one_worker_resume_on_another(buses: tuple[RedisBus, RedisBus]) -> None:
    """Event ids are Redis's, per stream: a console that saw an id through worker A resumes through
    worker B from the same log, and an id older than the log keeps is reported as a gap."""
    first, second = buses
    here = first.subscribe(OPERATORS)
    start = (await second.backlogs({OPERATORS: None}))[OPERATORS].head
    for n in range(3):
        await first.publish(OPERATORS, _typing(n))
    delivered = [await asyncio.wait_for(here.receive(), 5) for _ in range(3)]
    assert [d.id for d in delivered] == [start + 1, start + 2, start + 3]
    found = (await second.backlogs({OPERATORS: delivered[0].id}))[OPERATORS]
    assert found.complete and found.head == start + 3
    assert found.events == [(d.id, d.event) for d in delivered[1:]]
    assert not (await second.backlogs({OPERATORS: start - 10}))[OPERATORS].complete
    assert not (await second.backlogs({OPERATORS: start + 99}))[OPERATORS].complete


async def test_a_stream_log_keeps_only_its_replay_length(prefix: str) -> None:
    bus = await RedisBus.connect(REDIS_URL, prefix=prefix, replay=2)
    try:
        start = (await bus.backlogs({OPERATORS: None}))[OPERATORS].head
        for n in range(4):
            await bus.publish(OPERATORS, _typing(n))
        assert [i for i, _ in (await bus.backlogs({OPERATORS: start + 2}))[OPERATORS].events] == [
            start + 3, start + 4]
        assert not (await bus.backlogs({OPERATORS: start + 1}))[OPERATORS].complete
    finally:
        await bus.close()
