"""The benchmarks' load generator, run as a process of its own so that the clients never share an
interpreter (or a GIL) with the server they measure.

    python -m tests.bench.load < spec.json      # prints one JSON object: the measurements

It talks to the server only as clients do (REST and WebSockets). Three kinds of run:

* ``turns``: ``conversations`` visitors ask ``rounds`` questions each, all at once, each waiting
  for its answer before the next; seconds per turn and the wall time of the whole run;
* ``delivery``: ``conversations`` visitor sockets, each conversation claimed by one of the
  operators (round robin) whose consoles are open; ``samples`` visitor messages one after another,
  each timed from the visitor's send to the owner's console receiving ``message.created``, then
  ``replies`` operator replies (REST) timed to the visitor's socket;
* ``sustained``: the same sockets; ``rate`` visitor messages a second for ``seconds``, sent on a
  fixed schedule (open loop: a slow server does not slow the sender), each timed to its owner's
  console; what has not arrived ``drain_seconds`` after the last send is reported as missing.

One visitor driven question by question from the benchmark's process (:class:`Visitor`, which runs
``python -m tests.bench.load visitor BASE_URL``): each line the parent writes is a command, each
line the child writes back its result, so the parent can measure something of its own between two
turns while the server is otherwise idle, and stay idle itself during a turn.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import httpx
from pydantic import BaseModel, Field
from websockets.asyncio.client import ClientConnection, connect

SETUP_CONCURRENCY = 8  # REST calls in flight while setting up
CONNECT_CONCURRENCY = 64  # socket handshakes in flight


class Spec(BaseModel):
    kind: Literal["turns", "delivery", "sustained"]
    base_url: str
    conversations: int = Field(ge=1)
    operator_tokens: list[str] = Field(default_factory=list)
    questions: list[str] = Field(default_factory=list)
    rounds: int = 3
    samples: int = 300
    replies: int = 100
    rate: float = 50.0
    seconds: float = 60.0
    drain_seconds: float = 15.0


async def frames_until(socket: ClientConnection,
                       predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    while True:
        frame = json.loads(await socket.recv())
        if predicate(frame):
            return frame


def answered(frame: dict[str, Any]) -> bool:
    return frame["type"] == "message" and frame["message"]["role"] in ("bot", "system")


def ws_url(spec: Spec, path: str) -> str:
    return spec.base_url.replace("http://", "ws://") + path


async def limited(calls: list[Any], concurrency: int) -> list[Any]:
    semaphore = asyncio.Semaphore(concurrency)

    async def one(call: Any) -> Any:
        async with semaphore:
            return await call()

    return list(await asyncio.gather(*(one(call) for call in calls)))


async def open_visitors(spec: Spec, http: httpx.AsyncClient, claim: bool) -> tuple[list[dict[str, Any]],
                                                                                 list[ClientConnection]]:
    """Start the conversations (claimed round robin by the operators when ``claim``) and open one
    visitor socket on each, returning once every socket has had its first ``state`` frame."""
    async def start(n: int) -> dict[str, Any]:
        response = await http.post("/api/visitor/conversations", json={})
        response.raise_for_status()
        conversation = response.json()
        if claim:
            token = spec.operator_tokens[n % len(spec.operator_tokens)]
            claimed = await http.post(f"/api/operator/conversations/{conversation['conversation_id']}/claim",
                                      headers={"Authorization": f"Bearer {token}"})
            claimed.raise_for_status()
        return conversation

    conversations = await limited([lambda n=n: start(n) for n in range(spec.conversations)],
                                  SETUP_CONCURRENCY)

    async def visit(conversation: dict[str, Any]) -> ClientConnection:
        socket = await connect(ws_url(spec, f"/ws/visitor?token={conversation['token']}"), max_queue=None,
                               ping_interval=None, open_timeout=120)
        await frames_until(socket, lambda f: f["type"] == "state")
        return socket

    sockets = await limited([lambda c=c: visit(c) for c in conversations], CONNECT_CONCURRENCY)
    return conversations, sockets


class Desks:
    """The operators' consoles, each read by one task that stamps the arrival of visitor messages
    by ``client_id``. Each console has one of its conversations open, the first it claimed, and
    asks for drafts when the visitor writes in it, as the real console does (the engine drafts for
    an owned conversation only when asked); ``draft_requests`` counts those asks."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.sockets: list[ClientConnection] = []
        self.arrived: dict[str, float] = {}
        self.waiting: dict[str, asyncio.Future[float]] = {}
        self.draft_requests = 0
        self._readers: list[asyncio.Task[None]] = []
        self._asks: set[asyncio.Task[Any]] = set()

    async def open(self, spec: Spec, conversations: list[dict[str, Any]]) -> None:
        for k, token in enumerate(spec.operator_tokens):
            socket = await connect(ws_url(spec, f"/ws/operator?token={token}"), max_queue=None,
                                   ping_interval=None, open_timeout=120)
            hello = await frames_until(socket, lambda f: f["type"] == "hello")
            if len(hello["watching"]) < len(conversations) // len(spec.operator_tokens):
                raise RuntimeError(f"an operator console watches {len(hello['watching'])} conversations")
            self.sockets.append(socket)
            viewed = conversations[k]["conversation_id"]  # conversation k went to operator k (round robin)
            self._readers.append(asyncio.create_task(self._read(socket, token, viewed)))

    async def _read(self, socket: ClientConnection, token: str, viewed: int) -> None:
        async for raw in socket:
            arrived = time.perf_counter()
            frame = json.loads(raw)
            if frame["type"] != "message.created" or frame["message"]["role"] != "visitor":
                continue
            client_id = frame["message"]["client_id"]
            self.arrived.setdefault(client_id, arrived)
            future = self.waiting.pop(client_id, None)
            if future is not None and not future.done():
                future.set_result(arrived)
            if frame["conversation_id"] == viewed:
                self.draft_requests += 1
                ask = asyncio.create_task(self.http.post(f"/api/operator/conversations/{viewed}/drafts",
                                                         headers={"Authorization": f"Bearer {token}"}))
                self._asks.add(ask)
                ask.add_done_callback(self._asks.discard)

    async def close(self) -> None:
        for reader in self._readers:
            reader.cancel()
        await asyncio.gather(*self._asks, return_exceptions=True)
        for socket in self.sockets:
            await socket.close()


async def send(socket: ClientConnection, text: str, client_id: str) -> None:
    await socket.send(json.dumps({"type": "message", "text": text, "client_id": client_id}))


async def run_turns(spec: Spec) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=spec.base_url, timeout=120) as http:
        _conversations, sockets = await open_visitors(spec, http, claim=False)

    async def visitor(socket: ClientConnection, offset: int) -> list[float]:
        samples = []
        for r in range(spec.rounds):
            started = time.perf_counter()
            await send(socket, spec.questions[(offset + r) % len(spec.questions)], uuid.uuid4().hex)
            frame = await frames_until(socket, answered)
            samples.append(time.perf_counter() - started)
            if frame["message"]["role"] == "system":  # handed to a person: the bot says no more
                break
        return samples

    started = time.perf_counter()
    runs = await asyncio.gather(*(visitor(socket, n) for n, socket in enumerate(sockets)))
    elapsed = time.perf_counter() - started
    for socket in sockets:
        await socket.close()
    return {"turns": [s for run in runs for s in run], "elapsed": elapsed}


async def run_delivery(spec: Spec) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    async with httpx.AsyncClient(base_url=spec.base_url, timeout=120) as http:
        conversations, sockets = await open_visitors(spec, http, claim=True)
        desks = Desks(http)
        await desks.open(spec, conversations)
        inbound = []
        for n in range(spec.samples):
            index = (n * 7919) % spec.conversations
            client_id = uuid.uuid4().hex
            desks.waiting[client_id] = loop.create_future()
            started = time.perf_counter()
            await send(sockets[index], f"ping {n}", client_id)
            inbound.append(await desks.waiting[client_id] - started)
        outbound = []
        for n in range(spec.replies):
            index = (n * 104729) % spec.conversations
            conversation, text = conversations[index], f"pong {n}"
            token = spec.operator_tokens[index % len(spec.operator_tokens)]
            started = time.perf_counter()
            response = await http.post(f"/api/operator/conversations/{conversation['conversation_id']}/reply",
                                       json={"text": text}, headers={"Authorization": f"Bearer {token}"})
            response.raise_for_status()
            await frames_until(sockets[index], lambda f, t=text: f["type"] == "message"
                               and f["message"]["text"] == t)
            outbound.append(time.perf_counter() - started)
        await desks.close()
        for socket in sockets:
            await socket.close()
    return {"inbound": inbound, "outbound": outbound, "draft_requests": desks.draft_requests}


async def run_sustained(spec: Spec) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=spec.base_url, timeout=120) as http:
        conversations, sockets = await open_visitors(spec, http, claim=True)
        return await _sustained(spec, conversations, sockets, Desks(http))


async def _sustained(spec: Spec, conversations: list[dict[str, Any]], sockets: list[ClientConnection],
                     desks: Desks) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    await desks.open(spec, conversations)
    total = round(spec.rate * spec.seconds)
    sent: dict[str, float] = {}
    lag = 0.0
    start = loop.time() + 0.5
    for k in range(total):
        due = start + k / spec.rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        lag = max(lag, loop.time() - due)
        client_id = uuid.uuid4().hex
        sent[client_id] = time.perf_counter()
        await send(sockets[(k * 7919) % spec.conversations], f"message {k}", client_id)
    deadline = loop.time() + spec.drain_seconds
    while len(desks.arrived.keys() & sent.keys()) < total and loop.time() < deadline:
        await asyncio.sleep(0.05)
    latencies = [desks.arrived[c] - t if c in desks.arrived else None for c, t in sent.items()]
    await desks.close()
    for socket in sockets:
        await socket.close()
    return {"latencies": latencies, "sender_lag_max": lag, "draft_requests": desks.draft_requests}


RUNS = {"turns": run_turns, "delivery": run_delivery, "sustained": run_sustained}
ROOT = Path(__file__).resolve().parents[2]


def run(spec: Spec, timeout: float = 900) -> dict[str, Any]:
    """Run the load generator in a child process (the caller's side) and return its measurements."""
    done = subprocess.run([sys.executable, "-m", "tests.bench.load"], input=spec.model_dump_json(),
                          capture_output=True, text=True, cwd=ROOT, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the load generator failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.splitlines()[-1])


class Visitor:
    """One visitor in a process of its own, asked by this process (``open`` a conversation, ``ask``
    a question and wait for the answer): a client whose framing and JSON never take the server's
    interpreter when the server runs in this process."""

    def __init__(self, base_url: str, timeout: float = 60) -> None:
        self.timeout = timeout
        self._child = subprocess.Popen([sys.executable, "-m", "tests.bench.load", "visitor", base_url],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)

    def _call(self, command: dict[str, Any]) -> dict[str, Any]:
        assert self._child.stdin is not None and self._child.stdout is not None
        self._child.stdin.write(json.dumps(command) + "\n")
        self._child.stdin.flush()
        line = self._child.stdout.readline()  # blocks without the GIL: the server runs meanwhile
        if not line:
            raise RuntimeError(f"the visitor process stopped (exit code {self._child.wait(self.timeout)})")
        return json.loads(line)

    def open(self) -> None:
        """A new conversation with its socket open (its first ``state`` frame read); the last one closed."""
        self._call({"do": "open"})

    def ask(self, question: str) -> tuple[float, str]:
        """Send ``question`` and wait for the answer: seconds from the send to the answer frame, as the
        visitor saw them, and the answer's role (``system`` when a person takes over)."""
        done = self._call({"do": "ask", "text": question})
        return done["seconds"], done["role"]

    def close(self) -> None:
        assert self._child.stdin is not None
        self._child.stdin.close()
        self._child.wait(self.timeout)

    def __enter__(self) -> Visitor:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


async def serve_visitor(base_url: str) -> None:
    """The child side of :class:`Visitor`: one JSON command a line on stdin, one JSON result a line on
    stdout, until stdin closes."""
    loop = asyncio.get_running_loop()
    spec = Spec(kind="turns", base_url=base_url, conversations=1)
    socket: ClientConnection | None = None
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            command = json.loads(line)
            if command["do"] == "open":
                if socket is not None:
                    await socket.close()
                _conversations, [socket] = await open_visitors(spec, http, claim=False)
                result: dict[str, Any] = {"opened": True}
            else:
                assert socket is not None, "ask before open"
                started = time.perf_counter()
                await send(socket, command["text"], uuid.uuid4().hex)
                frame = await frames_until(socket, answered)
                result = {"seconds": time.perf_counter() - started, "role": frame["message"]["role"]}
            print(json.dumps(result), flush=True)
        if socket is not None:
            await socket.close()


def main() -> None:
    if sys.argv[1:2] == ["visitor"]:
        asyncio.run(serve_visitor(sys.argv[2]))
        return
    spec = Spec.model_validate_json(sys.stdin.read())
    result = asyncio.run(RUNS[spec.kind](spec))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
