"""Delivery benchmarks, on SQLite and PostgreSQL: visitor -> operator with many sockets open, and a
sustained stream of messages. The clients are a load generator in its own process
(``tests/bench/load.py``); the server is one uvicorn worker with the in-process bus, as
``baton serve`` runs it. Every conversation is owned by one of the operators whose consoles are
open (100 conversations each). Each console has one of them open and asks for drafts when its
visitor writes, as the real console does (the engine drafts for an owned conversation only when a
console asks), so about one visitor message in a hundred is also drafted for in the background.

* ``delivery_p99_ms_<sockets>``: one visitor message at a time, from the visitor's send to the
  owner's console receiving ``message.created``, with 500 and 2,000 visitor sockets open;
* ``sustained_50_per_s_p99_ms``: 1,000 visitor sockets, 50 messages a second for 60 s on a fixed
  schedule; a message that never arrives counts as infinitely late in the p99.

Run: ``.venv/bin/pytest -q -s tests/bench/test_delivery_bench.py -m bench -p no:cacheprovider``
"""

from __future__ import annotations

import math

import pytest

from tests.bench import load
from tests.bench.conftest import backend_name, backend_suffix
from tests.bench.report import bench, percentile, summary
from tests.engine.conftest import Server

pytestmark = pytest.mark.bench

PER_OPERATOR = 100
SAMPLES, REPLIES = 300, 100
SUSTAINED_SOCKETS, RATE, SECONDS = 1000, 50.0, 60.0


def operator_tokens(server: Server, conversations: int) -> list[str]:
    return [server.new_operator(capacity=PER_OPERATOR)["token"]
            for _ in range(math.ceil(conversations / PER_OPERATOR))]


@pytest.mark.parametrize("sockets", [500, 2000])
def test_delivery_with_many_sockets(engine_server: Server, sockets: int) -> None:
    spec = load.Spec(kind="delivery", base_url=engine_server.base_url, conversations=sockets,
                     operator_tokens=operator_tokens(engine_server, sockets), samples=SAMPLES,
                     replies=REPLIES)
    result = load.run(spec)
    suffix = backend_suffix(engine_server)
    print(f"\ndelivery with {sockets} visitor sockets and {len(spec.operator_tokens)} operator consoles "
          f"({backend_name(engine_server)}):")
    _, inbound_p99 = summary("visitor WS send -> operator WS message.created", result["inbound"])
    _, outbound_p99 = summary("operator REST reply -> visitor WS message", result["outbound"])
    bench(f"delivery_p99_ms_{sockets}{suffix}", inbound_p99, "ms", "target <= 10 ms at 2000 sockets")
    bench(f"operator_reply_p99_ms_{sockets}{suffix}", outbound_p99, "ms",
          "REST request, commit and socket; no target")
    bench(f"delivery_drafted_{sockets}{suffix}", result["draft_requests"], "messages",
          f"of {SAMPLES}: those written in a conversation a console has open")
    assert len(result["inbound"]) == SAMPLES


def test_sustained_50_messages_per_second(engine_server: Server) -> None:
    spec = load.Spec(kind="sustained", base_url=engine_server.base_url, conversations=SUSTAINED_SOCKETS,
                     operator_tokens=operator_tokens(engine_server, SUSTAINED_SOCKETS), rate=RATE,
                     seconds=SECONDS)
    result = load.run(spec)
    latencies = result["latencies"]
    delivered = [seconds for seconds in latencies if seconds is not None]
    late = sum(1 for seconds in latencies if seconds is None or seconds > 0.1)
    suffix = backend_suffix(engine_server)
    print(f"\n{RATE:.0f} visitor messages/s for {SECONDS:.0f} s, {SUSTAINED_SOCKETS} visitor sockets "
          f"({backend_name(engine_server)}): {len(delivered)} of {len(latencies)} delivered, {late} later "
          f"than 100 ms or never; load generator at most {result['sender_lag_max'] * 1000:.1f} ms behind "
          "its schedule")
    summary("visitor WS send -> operator WS message.created", delivered)
    p99 = percentile([math.inf if s is None else s for s in latencies], 99) * 1000
    bench(f"sustained_50_per_s_p99_ms{suffix}", p99, "ms",
          f"{len(latencies)} messages, missing ones count as infinitely late; target <= 100 ms")
    bench(f"sustained_50_per_s_delivered{suffix}", len(delivered), "messages", f"of {len(latencies)} sent")
    bench(f"sustained_50_per_s_over_100ms{suffix}", late, "messages", f"of {len(latencies)}; target 0")
    bench(f"sustained_drafted{suffix}", result["draft_requests"], "messages",
          f"of {len(latencies)}: those written in a conversation a console has open")
    bench(f"sustained_sender_lag_max_ms{suffix}", result["sender_lag_max"] * 1000, "ms",
          "how far the load generator fell behind its schedule (its own health, not the server's)")
    assert len(latencies) == round(RATE * SECONDS)
