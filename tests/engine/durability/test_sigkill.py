"""A real ``baton serve`` killed with SIGKILL between the acknowledgement and the bot's turn.

The server runs with ``BATON_TURN_GATE_DIR``: each bot turn touches ``parked-<message id>`` there and
waits for the file ``open``. So the test knows, from files the server wrote and not from a sleep,
that every acknowledged question of the second batch is stored and its turn has not run when it
sends SIGKILL. After a restart every acknowledged question is answered (or its conversation queued)
exactly once: one handoff decision per visitor message, no pending turn left, the first batch not
answered again; and a resend of an acknowledged question gets a duplicate ack and its answer.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func
from sqlmodel import Session, col, select
from websockets.sync.client import connect

from engine.db import make_engine
from engine.models import HandoffEvent, Message, Role
from engine.models.conversation import PendingTurn
from tests.engine.conftest import free_port, receive_json

BATON = Path(sys.executable).with_name("baton")
QUESTIONS = ["How long does shipping take?", "How do I get a refund?", "I forgot my password",
             "when will my order arrive", "can I get my money back", "can't log in",
             "delivery time for express", "refund please"]
STARTUP_SECONDS = 120


@dataclass
class Asked:
    conversation_id: int
    token: str
    client_id: str
    seq: int  # the acknowledged seq of the visitor's message


class Baton:
    """``baton serve`` in its own process, on one database and one gate folder (where its log goes);
    started when its health check answers (with the bot loaded, unless ``needs_bot`` is False)."""

    def __init__(self, env: dict[str, str], gate: Path, *, needs_bot: bool = True) -> None:
        self.env, self.gate, self.needs_bot = env, gate, needs_bot
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = (self.gate / "server.log").open("ab")
        self.process = subprocess.Popen([str(BATON), "serve", "--port", str(self.port), "--log-level",
                                         "warning"], env=self.env, stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"baton serve exited: {(self.gate / 'server.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).json()["bot"] or not self.needs_bot:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)  # waiting for the port to open, not proving anything
        raise RuntimeError("baton serve did not start")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        assert self.process.wait(timeout=30) == -signal.SIGKILL

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def parked(self) -> set[int]:
        return {int(p.name.removeprefix("parked-")) for p in self.gate.glob("parked-*")}


@contextmanager
def baton(store_url: str, kb_index: Path, gate: Path) -> Iterator[Baton]:
    env = {**os.environ, "BATON_DATABASE_URL": store_url, "BATON_INDEX_DIR": str(kb_index),
           "BATON_ENVIRONMENT": "test", "BATON_SECRET_KEY": secrets.token_urlsafe(32),
           "BATON_TURN_GATE_DIR": str(gate), "BATON_TURN_LEASE_SECONDS": "2",
           "BATON_ROUTING_INTERVAL_SECONDS": "0.3", "BATON_CONFIG": str(gate / "none.toml")}
    subprocess.run([str(BATON), "db", "upgrade"], env=env, check=True, capture_output=True)
    server = Baton(env, gate)
    try:
        yield server
    finally:
        server.stop()


def ask(server: Baton, question: str, client_id: str) -> Asked:
    started = httpx.post(f"{server.url}/api/visitor/conversations", json={}, timeout=10).json()
    with connect(f"ws://127.0.0.1:{server.port}/ws/visitor?token={started['token']}", open_timeout=10) as ws:
        assert receive_json(ws)["type"] == "state"
        ws.send(json.dumps({"type": "message", "text": question, "client_id": client_id}))
        while (frame := receive_json(ws))["type"] != "ack":
            pass
    assert frame["client_id"] == client_id and frame["duplicate"] is False
    return Asked(started["conversation_id"], started["token"], client_id, frame["seq"])


def answer_after(server: Baton, asked: Asked, timeout: float = 60) -> dict[str, Any]:
    """The first bot or system message after the question, over a socket resuming from its seq."""
    with connect(f"ws://127.0.0.1:{server.port}/ws/visitor?token={asked.token}&after={asked.seq}",
                 open_timeout=10) as ws:
        deadline = time.monotonic() + timeout
        while True:
            frame = receive_json(ws, timeout=max(0.01, deadline - time.monotonic()))
            if frame["type"] == "message" and frame["message"]["role"] in ("bot", "system"):
                return frame["message"]


def decisions(store_url: str) -> dict[int, int]:
    """Visitor message id -> how many handoff decisions (bot turns applied) it got."""
    engine = make_engine(store_url)
    with Session(engine) as session:
        visitor = session.exec(select(Message.id).where(Message.role == Role.visitor)).all()
        counted = dict(session.exec(select(HandoffEvent.message_id, func.count())
                                    .group_by(HandoffEvent.message_id)).all())
        left = session.exec(select(func.count()).select_from(PendingTurn)).one()
        bot_replies = session.exec(select(func.count()).select_from(Message)
                                   .where(col(Message.role) == Role.bot)).one()
    engine.dispose()
    counts = {message_id: counted.get(message_id, 0) for message_id in visitor}
    counts[-1], counts[-2] = left, bot_replies  # pending turns, bot messages
    return counts


def test_sigkill_between_ack_and_turn_loses_no_question_and_answers_none_twice(
        store_url: str, kb_index: Path, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    gate.mkdir()
    with baton(store_url, kb_index, gate) as server:
        (gate / "open").touch()
        server.start()
        before = [ask(server, q, f"before-{i}") for i, q in enumerate(QUESTIONS[:3])]
        for asked in before:
            assert answer_after(server, asked)["role"] in ("bot", "system")
        answered_before = decisions(store_url)

        (gate / "open").unlink()  # from here on every turn waits in the window
        for parked in gate.glob("parked-*"):
            parked.unlink()
        after = [ask(server, q, f"after-{i}") for i, q in enumerate(QUESTIONS)]
        deadline = time.monotonic() + 60
        while len(server.parked()) < len(after):  # every acknowledged turn is parked: the window
            assert time.monotonic() < deadline, f"only {len(server.parked())} of {len(after)} turns parked"
            time.sleep(0.02)
        stranded = decisions(store_url)
        assert stranded[-1] == len(after)  # stored with the messages, none applied
        server.kill()

        (gate / "open").touch()
        server.port = free_port()
        server.start()
        resent = after[0]
        with connect(f"ws://127.0.0.1:{server.port}/ws/visitor?token={resent.token}&after={resent.seq}",
                     open_timeout=10) as ws:
            ws.send(json.dumps({"type": "message", "text": QUESTIONS[0], "client_id": resent.client_id}))
            frames: list[dict[str, Any]] = []
            while not (any(f["type"] == "ack" for f in frames) and any(
                    f["type"] == "message" and f["message"]["role"] in ("bot", "system") for f in frames)):
                frames.append(receive_json(ws, timeout=60))  # the answer, replayed or live, and the ack
        ack = next(f for f in frames if f["type"] == "ack")
        assert ack["duplicate"] is True and ack["seq"] == resent.seq  # the same message, answered
        answers = [answer_after(server, asked) for asked in after]
        assert all(a["role"] in ("bot", "system") for a in answers)

        final = decisions(store_url)
        visitor_ids = [k for k in final if k > 0]
        assert len(visitor_ids) == len(before) + len(after)
        assert [final[k] for k in visitor_ids] == [1] * len(visitor_ids)  # every question once, none twice
        assert final[-1] == 0  # no pending turn left
        assert {k: final[k] for k in answered_before if k > 0} == {k: v for k, v in answered_before.items()
                                                                 if k > 0}
        print(f"\nSIGKILL on {store_url.split(':')[0]}: {len(before)} answered before, {len(after)} "
              f"acknowledged and parked at the kill, {stranded[-1]} pending at the kill; after restart "
              f"{sum(final[k] for k in visitor_ids)} decisions for {len(visitor_ids)} questions, "
              f"{final[-2]} bot replies, {final[-1]} pending")
