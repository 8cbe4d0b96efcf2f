"""Bot-turn benchmarks, on SQLite and PostgreSQL, each against a reference measured in the same run:

* one visitor at a time: the bot turn over the WebSocket (send -> answer), interleaved question by
  question with the bare query embedding plus search (``kb.retrieve``) in this process, so both
  see the same load on this shared machine (``turn_over_retrieve_p50``). The visitor runs in a
  process of its own (``load.Visitor``), told over a pipe when to ask: a real visitor's client is
  never in the server's process, and in this one (until 2026-12-01, docs/scaling.md "the fourth
  pass") its framing and JSON took the server's GIL and were counted in the turn, about 0.8 ms of
  CPU per turn in the profile. This process waits idle during a turn, so its CPU time then is the
  server's (``turn_cpu_over_retrieve_cpu_p50``);
* 16 visitors x 3 questions at once, from a load generator in its own process: turns per second
  against the bare model's batch-encode throughput of the same 48 questions measured here just
  before and after (``concurrent_turns_over_batch_encode``), and the mean retrieval batch the bot
  ran (``concurrent_mean_batch``), and the mean number of writes per transaction the server's group
  commit ran meanwhile (``concurrent_mean_write_group``).

Run: ``make bench`` or
``.venv/bin/pytest -q -s tests/bench/test_engine_bench.py -m bench -p no:cacheprovider``
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import pytest

from tests.bench import load
from tests.bench.conftest import backend_name, backend_suffix
from tests.bench.report import bench, percentile, summary
from tests.engine.conftest import Server

pytestmark = pytest.mark.bench

QUESTIONS = [
    "how long does shipping take", "when will my order arrive?", "can i get my money back",
    "i forgot my password", "refund please", "how do I reset my password", "delivery time to berlin",
    "is express shipping faster", "my refund hasn't shown up", "cant log in to my account",
]
TURNS = 60
VISITORS, ROUNDS = 16, 3


def _interleaved(server: Server, embedder: Any, rounds: int) -> dict[str, list[float]]:
    """Per question, back to back: the bare encode, the bare retrieval (here), then the bot turn asked
    by the visitor's own process, this process waiting idle for its answer. Conversations hold three
    questions; a handoff ends one early."""
    knowledge_base = server.app.state.ctx.bot.knowledge_base
    samples: dict[str, list[float]] = {"encode": [], "retrieve": [], "turn": [], "retrieve_cpu": [],
                                       "turn_cpu": []}
    asked = 0
    with load.Visitor(server.base_url) as visitor:
        while len(samples["turn"]) < rounds:
            visitor.open()
            for _ in range(3):
                question = QUESTIONS[asked % len(QUESTIONS)]
                asked += 1
                started = time.perf_counter()
                embedder.encode([question])
                samples["encode"].append(time.perf_counter() - started)
                started, cpu = time.perf_counter(), time.process_time()
                knowledge_base.retrieve(question)
                samples["retrieve"].append(time.perf_counter() - started)
                samples["retrieve_cpu"].append(time.process_time() - cpu)
                cpu = time.process_time()  # this process during the turn: the server alone
                seconds, role = visitor.ask(question)
                samples["turn"].append(seconds)
                samples["turn_cpu"].append(time.process_time() - cpu)
                if role == "system":
                    break
    return samples


def test_bot_turn_against_bare_embedding_and_search(engine_server: Server, embedder: Any) -> None:
    _interleaved(engine_server, embedder, 10)  # warm the code paths and caches
    samples = _interleaved(engine_server, embedder, TURNS)
    suffix = backend_suffix(engine_server)
    print(f"\nbot turn, one visitor at a time ({backend_name(engine_server)}, in-process bus, one worker; "
          "the visitor in its own process):")
    encode_p50, _ = summary("bare query embedding (encode 1 text)", samples["encode"])
    retrieve_p50, _ = summary("bare embedding + search (kb.retrieve)", samples["retrieve"])
    turn_p50, turn_p99 = summary("bot turn over WebSocket (send -> answer)", samples["turn"])
    reference = f"embed+search p50 {retrieve_p50:.2f} ms, same run; target <= 1.5, aim 1.3"
    bench(f"turn_over_retrieve_p50{suffix}", turn_p50 / retrieve_p50, "ratio", reference)
    bench(f"turn_p50_ms{suffix}", turn_p50, "ms", reference)
    bench(f"turn_p99_ms{suffix}", turn_p99, "ms", reference)
    bench(f"retrieve_p50_ms{suffix}", retrieve_p50, "ms", f"bare encode p50 {encode_p50:.2f} ms")
    # CPU time of this process (the server's threads; the client is another process) rather than
    # wall time: what a turn costs the server whatever else the shared machine runs meanwhile
    turn_cpu, retrieve_cpu = (statistics.median(samples[k]) * 1000 for k in ("turn_cpu", "retrieve_cpu"))
    bench(f"turn_cpu_over_retrieve_cpu_p50{suffix}", turn_cpu / retrieve_cpu, "ratio",
          f"CPU time: turn p50 {turn_cpu:.2f} ms (the server) over embed+search p50 {retrieve_cpu:.2f} ms")
    assert len(samples["turn"]) >= TURNS


def _batch_encode_rate(embedder: Any, texts: list[str], repeats: int = 5) -> tuple[float, float]:
    """Texts per second of the bare model encoding ``texts`` as one batch, in wall time and in CPU
    time of this process (medians of ``repeats``)."""
    seconds, cpu = [], []
    for _ in range(repeats):
        started, used = time.perf_counter(), time.process_time()
        embedder.encode(texts, batch_size=64)
        seconds.append(time.perf_counter() - started)
        cpu.append(time.process_time() - used)
    return len(texts) / statistics.median(seconds), len(texts) / statistics.median(cpu)


def test_concurrent_turns_share_embedding_batches(engine_server: Server, embedder: Any) -> None:
    bot, writes = engine_server.app.state.ctx.bot, engine_server.app.state.ctx.writes
    spec = load.Spec(kind="turns", base_url=engine_server.base_url, conversations=VISITORS, rounds=ROUNDS,
                     questions=QUESTIONS)
    asked = [QUESTIONS[(n + r) % len(QUESTIONS)] for n in range(VISITORS) for r in range(ROUNDS)]
    load.run(spec)  # warm-up
    runs, cpu_ratios, write_groups = [], [], []
    for _ in range(3):
        before, groups_before = len(bot.retrieve.batches), len(writes.groups)
        rate_before, cpu_rate_before = _batch_encode_rate(embedder, asked)
        used = time.process_time()  # the server's CPU: the load generator is another process
        result = load.run(spec)
        server_cpu = time.process_time() - used
        rate_after, cpu_rate_after = _batch_encode_rate(embedder, asked)
        runs.append((result, bot.retrieve.batches[before:], (rate_before + rate_after) / 2))
        write_groups.append(statistics.fmean(writes.groups[groups_before:]))
        cpu_ratios.append(len(result["turns"]) / server_cpu / ((cpu_rate_before + cpu_rate_after) / 2))
    suffix = backend_suffix(engine_server)
    print(f"\n{VISITORS} visitors x {ROUNDS} questions at once ({backend_name(engine_server)}; "
          "load generator in its own process), three runs:")
    ratios, means, p99s = [], [], []
    for result, batches, encode_rate in runs:
        turns_per_second = len(result["turns"]) / result["elapsed"]
        ratios.append(turns_per_second / encode_rate)
        means.append(statistics.fmean(batches))
        p99s.append(percentile(result["turns"], 99) * 1000)
        print(f"  {turns_per_second:6.1f} turns/s (bare batch encode {encode_rate:6.0f} texts/s), "
              f"turn p50 {statistics.median(result['turns']) * 1000:6.1f} ms p99 {p99s[-1]:6.1f} ms, "
              f"{len(batches)} retrieval batches, sizes {batches}")
    encode_rate = statistics.median(rate for _, _, rate in runs)
    reference = (f"bare batch encode of the same {len(asked)} questions {encode_rate:.0f} texts/s, "
                 "same run (median of 3 runs); target >= 0.5, aim 0.7")
    bench(f"concurrent_turns_over_batch_encode{suffix}", statistics.median(ratios), "ratio", reference)
    bench(f"concurrent_turns_over_batch_encode_cpu{suffix}", statistics.median(cpu_ratios), "ratio",
          "turns per CPU-second of the server over texts per CPU-second of the bare batch encode "
          "(median of 3 runs): the same ratio, whatever else the shared machine runs")
    bench(f"concurrent_mean_batch{suffix}", statistics.median(means), "questions per batch",
          "median of 3 runs; target > 4")
    bench(f"concurrent_turn_p99_ms{suffix}", statistics.median(p99s), "ms", "median of 3 runs")
    bench(f"concurrent_mean_write_group{suffix}", statistics.median(write_groups), "writes per transaction",
          "median of 3 runs (engine.writes: group commit)")
    assert all(len(result["turns"]) >= VISITORS for result, _, _ in runs)
