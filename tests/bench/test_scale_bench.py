"""Delivery latency across workers (Redis) beside delivery within one worker (in-process bus).

Two figures, each as p50/p99 in milliseconds (and ``BENCH`` lines, ``cross_worker_reply_p99_ms``
among them):

* bus: ``publish`` to ``get`` of one event, InProcessBus vs RedisBus (published on one bus,
  received on another, as between two workers);
* end to end: an operator's reply posted over HTTP until the visitor's WebSocket receives it, on
  one worker with the in-process bus vs operator on worker B and visitor on worker A over Redis
  and PostgreSQL (both include the HTTP request and the database commit).

Run: ``.venv/bin/pytest tests/bench/test_scale_bench.py -m bench -s``
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import httpx
import pytest

from engine.bus import EventBus, InProcessBus, conversation_stream
from engine.events import Typing
from engine.redis_bus import RedisBus
from tests.bench.report import bench, percentile, summary
from tests.engine.conftest import receive_until
from tests.engine.scale.cluster import REDIS_URL, Worker, running_cluster

pytestmark = [pytest.mark.bench, pytest.mark.redis, pytest.mark.postgres]
BUS_SAMPLES = 2000
REPLY_SAMPLES = 150


async def _bus_latency(publisher: EventBus, subscriber: EventBus) -> list[float]:
    stream = conversation_stream(1)
    subscription = subscriber.subscribe(stream)
    event = Typing(conversation_id=1, role="visitor", on=True)
    samples = []
    for _ in range(BUS_SAMPLES):
        started = time.perf_counter()
        await publisher.publish(stream, event)
        await subscription.get()
        samples.append(time.perf_counter() - started)
    subscription.close()
    return samples


async def _bus_figures() -> tuple[list[float], list[float]]:
    local = InProcessBus()
    in_process = await _bus_latency(local, local)
    prefix = f"baton-bench-{uuid.uuid4().hex[:12]}"
    worker_a = await RedisBus.connect(REDIS_URL, prefix=prefix)
    worker_b = await RedisBus.connect(REDIS_URL, prefix=prefix)
    try:
        across = await _bus_latency(worker_b, worker_a)
    finally:
        await worker_a.close()
        await worker_b.close()
    return in_process, across


def _reply_latency(visitor_worker: Worker, operator_worker: Worker) -> list[float]:
    """Post operator replies on ``operator_worker``; time each until ``visitor_worker``'s socket has it."""
    operator = operator_worker.new_operator()
    conversation = visitor_worker.start_visitor(name="Bench")
    cid, token = conversation["conversation_id"], conversation["token"]
    headers = {"Authorization": f"Bearer {operator['token']}"}
    with httpx.Client(base_url=visitor_worker.base_url, timeout=90) as visitor_http:
        visitor_http.post("/api/visitor/messages", json={"text": "help please"},
                          headers={"Authorization": f"Bearer {token}"}).raise_for_status()
    samples = []
    with visitor_worker.visitor_socket(token) as visitor, \
            httpx.Client(base_url=operator_worker.base_url, timeout=90) as desk:
        desk.post(f"/api/operator/conversations/{cid}/claim", headers=headers).raise_for_status()
        for n in range(-10, REPLY_SAMPLES):  # the first ten warm up
            text = f"reply {n}"
            started = time.perf_counter()
            desk.post(f"/api/operator/conversations/{cid}/reply", json={"text": text},
                      headers=headers).raise_for_status()
            receive_until(visitor, lambda f, text=text: f["type"] == "message"
                          and f["message"]["text"] == text, timeout=90)
            if n >= 0:
                samples.append(time.perf_counter() - started)
    return samples


def test_cross_worker_delivery_latency(tmp_path: Path) -> None:
    bus_in_process, bus_across = asyncio.run(_bus_figures())
    with running_cluster(tmp_path / "single", workers=1, redis_url="") as single:
        worker = single.workers[0]
        reply_in_process = _reply_latency(worker, worker)
    with running_cluster(tmp_path / "pair", workers=2) as pair:
        reply_across = _reply_latency(pair.workers[0], pair.workers[1])
    report = {
        "bus, in-process": bus_in_process,
        "bus, across workers (Redis)": bus_across,
        "reply to visitor, one worker (in-process)": reply_in_process,
        "reply to visitor, B to A (Redis, PostgreSQL)": reply_across,
    }
    print()
    for name, samples in report.items():
        summary(name, samples)
    bench("bus_in_process_p99_ms", percentile(bus_in_process, 99) * 1000, "ms", "publish -> get, one process")
    bench("bus_redis_p99_ms", percentile(bus_across, 99) * 1000, "ms",
          "publish on one RedisBus -> get on another, as between two workers")
    bench("single_worker_reply_p99_ms", percentile(reply_in_process, 99) * 1000, "ms",
          "operator REST reply -> visitor socket, one worker, in-process bus, PostgreSQL")
    bench("cross_worker_reply_p99_ms", percentile(reply_across, 99) * 1000, "ms",
          f"the same on one worker: p99 {percentile(reply_in_process, 99) * 1000:.1f} ms; target <= 20 ms")
    assert all(len(samples) > 0 for samples in report.values())
