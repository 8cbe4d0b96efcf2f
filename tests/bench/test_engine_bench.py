"""Engine benchmarks: bot-turn latency over the WebSocket beside the bare embedding-plus-search cost
measured in the same run, concurrent turns sharing embedding batches, and visitor-to-operator
delivery latency with 500 conversations open. Prints figures; asserts only that things happened.

Run: ``.venv/bin/pytest -q -s tests/bench/test_engine_bench.py -m bench -p no:cacheprovider``
"""

from __future__ import annotations

import asyncio
import json
import secrets
import statistics
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from engine.service.bot import Bot
from engine.settings import Settings
from tests.engine.conftest import KB_ROWS, Server, postgres_database, run_server

pytestmark = pytest.mark.bench

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = [
    "how long does shipping take", "when will my order arrive?", "can i get my money back",
    "i forgot my password", "refund please", "how do I reset my password", "delivery time to berlin",
    "is express shipping faster", "my refund hasn't shown up", "cant log in to my account",
]
OPEN_CONVERSATIONS = 500
DELIVERIES = 300


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p99 * 1000


def report(name: str, samples: list[float]) -> float:
    p50, p99 = percentiles(samples)
    print(f"  {name:<46} p50 {p50:8.2f} ms   p99 {p99:8.2f} ms   (n={len(samples)})")
    return p50


@pytest.fixture(scope="module")
def bench_index(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Path:
    """The sample knowledge base when it is there (what ``make run`` serves), else the test one."""
    import knowledge

    folder = tmp_path_factory.mktemp("bench-kb")
    source = ROOT / "samples" / "kb"
    if not source.exists():
        source = folder / "faq.jsonl"
        source.write_text("".join(json.dumps(row) + "\n" for row in KB_ROWS))
    index_dir = folder / "index"
    knowledge.KnowledgeIndex.open(index_dir).ingest(knowledge.load_path(source), embedder, progress=False)
    return index_dir


@pytest.fixture(scope="module")
def bench_bot(bench_index: Path, embedder: Any) -> Bot:
    return Bot.load(Settings(index_dir=bench_index), embedder)


def _serve(database_url: str, bench_index: Path, bot: Bot) -> Iterator[Server]:
    settings = Settings(environment="test", secret_key=secrets.token_urlsafe(32), index_dir=bench_index,
                        database_url=database_url)
    yield from run_server(settings, bot)


@pytest.fixture(scope="module")
def bench_server(tmp_path_factory: pytest.TempPathFactory, bench_index: Path,
                 bench_bot: Bot) -> Iterator[Server]:
    database = tmp_path_factory.mktemp("bench-db") / "baton.db"
    yield from _serve(f"sqlite:///{database}", bench_index, bench_bot)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def delivery_server(request: pytest.FixtureRequest, bench_server: Server, bench_index: Path,
                    bench_bot: Bot) -> Iterator[Server]:
    if request.param == "sqlite":
        yield bench_server
        return
    with postgres_database() as url:
        yield from _serve(url, bench_index, bench_bot)


async def _frames_until(socket: ClientConnection, predicate: Any) -> dict[str, Any]:
    while True:
        frame = json.loads(await socket.recv())
        if predicate(frame):
            return frame


def _answered(frame: dict[str, Any]) -> bool:
    return frame["type"] == "message" and frame["message"]["role"] in ("bot", "system")


async def _visitor(server: Server, http: httpx.AsyncClient) -> tuple[dict[str, Any], ClientConnection]:
    conversation = (await http.post("/api/visitor/conversations", json={})).json()
    socket = await connect(f"{server.ws_url}/ws/visitor?token={conversation['token']}", max_queue=None)
    await _frames_until(socket, lambda f: f["type"] == "state")
    return conversation, socket


async def _turn(socket: ClientConnection, text: str) -> tuple[float, str]:
    """Seconds from sending to the bot's answer (or the system notice of a handoff), and its role."""
    started = time.perf_counter()
    await socket.send(json.dumps({"type": "message", "text": text, "client_id": uuid.uuid4().hex}))
    frame = await _frames_until(socket, _answered)
    return time.perf_counter() - started, frame["message"]["role"]


async def _interleaved(server: Server, embedder: Any, rounds: int) -> dict[str, list[float]]:
    """Per question, back to back: the bare encode, the bare retrieval, then the bot turn over the
    WebSocket, so that all three see the same load on this shared machine. Conversations hold three
    questions; a handoff ends one early (the bot says nothing more in it)."""
    knowledge_base = server.app.state.ctx.bot.knowledge_base
    samples: dict[str, list[float]] = {"encode": [], "retrieve": [], "turn": []}
    asked = 0
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        while len(samples["turn"]) < rounds:
            _conversation, socket = await _visitor(server, http)
            async with socket:
                for _ in range(3):
                    question = QUESTIONS[asked % len(QUESTIONS)]
                    asked += 1
                    started = time.perf_counter()
                    embedder.encode([question])
                    samples["encode"].append(time.perf_counter() - started)
                    started = time.perf_counter()
                    knowledge_base.retrieve(question)
                    samples["retrieve"].append(time.perf_counter() - started)
                    seconds, role = await _turn(socket, question)
                    samples["turn"].append(seconds)
                    if role == "system":
                        break
    return samples


async def _concurrent_turns(server: Server, visitors: int, rounds: int) -> tuple[list[float], float]:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        pairs = [await _visitor(server, http) for _ in range(visitors)]

    async def one(socket: ClientConnection, offset: int) -> list[float]:
        samples = []
        for r in range(rounds):
            seconds, role = await _turn(socket, QUESTIONS[(offset + r) % len(QUESTIONS)])
            samples.append(seconds)
            if role == "system":
                break
        return samples

    started = time.perf_counter()
    results = await asyncio.gather(*(one(socket, i) for i, (_c, socket) in enumerate(pairs)))
    elapsed = time.perf_counter() - started
    for _conversation, socket in pairs:
        await socket.close()
    return [s for run in results for s in run], elapsed


def test_bot_turn_latency_against_bare_embedding_and_search(bench_server: Server, embedder: Any) -> None:
    bot = bench_server.app.state.ctx.bot
    asyncio.run(_interleaved(bench_server, embedder, 10))  # warm the code paths and caches
    samples = asyncio.run(_interleaved(bench_server, embedder, 60))

    print("\nbot turn (SQLite, in-process bus, one uvicorn worker; 2 shared cores, figures interleaved):")
    encode_p50 = report("bare query embedding (encode 1 text)", samples["encode"])
    search_p50 = report("bare embedding + search (kb.retrieve)", samples["retrieve"])
    turn_p50 = report("bot turn over WebSocket (send -> answer)", samples["turn"])
    print(f"  turn / retrieve (p50) = {turn_p50 / search_p50:.2f}x ; overhead = "
          f"{turn_p50 - search_p50:.1f} ms ; retrieve / encode = {search_p50 / encode_p50:.2f}x")

    print("16 visitors x 3 questions at once, micro-batching on, then off (max batch 1):")
    for max_batch in (64, 1, 64, 1):
        bot.retrieve.max_batch = bot.decide.max_batch = max_batch
        before = len(bot.retrieve.batches)
        concurrent, elapsed = asyncio.run(_concurrent_turns(bench_server, visitors=16, rounds=3))
        batches = bot.retrieve.batches[before:]
        p50, p99 = percentiles(concurrent)
        print(f"  max batch {max_batch:>2}: {len(concurrent) / elapsed:5.1f} turns/s, turn p50 {p50:7.1f} ms "
              f"p99 {p99:7.1f} ms, {len(batches)} retrieval batches (mean {statistics.fmean(batches):.1f})")
    bot.retrieve.max_batch = bot.decide.max_batch = 64
    assert len(samples["turn"]) >= 60


async def _deliveries(server: Server, operator_token: str,
                      operator_id: int) -> tuple[list[float], list[float]]:
    headers = {"Authorization": f"Bearer {operator_token}"}
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        conversations = []
        for _ in range(OPEN_CONVERSATIONS):
            conversation = (await http.post("/api/visitor/conversations", json={})).json()
            claimed = await http.post(f"/api/operator/conversations/{conversation['conversation_id']}/claim",
                                      headers=headers)
            assert claimed.json()["assignee_id"] == operator_id
            conversations.append(conversation)
        sockets = []
        for conversation in conversations:
            url = f"{server.ws_url}/ws/visitor?token={conversation['token']}"
            socket = await connect(url, max_queue=None)
            await _frames_until(socket, lambda f: f["type"] == "state")
            sockets.append(socket)
        desk = await connect(f"{server.ws_url}/ws/operator?token={operator_token}", max_queue=None)
        hello = await _frames_until(desk, lambda f: f["type"] == "hello")
        assert len(hello["watching"]) >= OPEN_CONVERSATIONS

        inbound: list[float] = []
        for n in range(DELIVERIES):
            index = (n * 7919) % OPEN_CONVERSATIONS
            client_id = uuid.uuid4().hex
            started = time.perf_counter()
            await sockets[index].send(json.dumps({"type": "message", "text": f"ping {n}",
                                                  "client_id": client_id}))
            await _frames_until(desk, lambda f, c=client_id: f["type"] == "message.created"
                                and f["message"]["client_id"] == c)
            inbound.append(time.perf_counter() - started)

        outbound: list[float] = []
        for n in range(DELIVERIES // 3):
            index = (n * 104729) % OPEN_CONVERSATIONS
            conversation = conversations[index]
            text = f"pong {n}"
            started = time.perf_counter()
            await http.post(f"/api/operator/conversations/{conversation['conversation_id']}/reply",
                            json={"text": text}, headers=headers)
            await _frames_until(sockets[index], lambda f, t=text: f["type"] == "message"
                                and f["message"]["text"] == t)
            outbound.append(time.perf_counter() - started)
        for socket in [*sockets, desk]:
            await socket.close()
    return inbound, outbound


def test_delivery_latency_with_500_open_conversations(delivery_server: Server) -> None:
    operator = delivery_server.new_operator(capacity=100)
    token, operator_id = operator["token"], operator["operator"]["id"]
    inbound, outbound = asyncio.run(_deliveries(delivery_server, token, operator_id))
    backend = "SQLite" if delivery_server.settings.is_sqlite else "PostgreSQL"
    print(f"\ndelivery with {OPEN_CONVERSATIONS} visitor sockets and one operator socket open ({backend}):")
    report("visitor WS send -> operator WS message.created", inbound)
    report("operator REST reply -> visitor WS message", outbound)
    assert len(inbound) == DELIVERIES
