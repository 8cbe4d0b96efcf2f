"""A visitor on one worker and an operator on another, through real sockets, PostgreSQL and Redis.

Worker A (``cluster.workers[0]``) serves the visitor; worker B (``[1]``) serves the operator. Every
event between them crosses Redis; every seq comes from the shared database.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection

from tests.engine.conftest import receive_json
from tests.engine.conftest import receive_until as receive_within
from tests.engine.scale.cluster import Cluster, Worker
from tests.engine.scale.conftest import GRACE_SECONDS, INTERVAL_SECONDS

pytestmark = [pytest.mark.redis, pytest.mark.postgres]
Frame = dict[str, Any]


def receive_until(socket: ClientConnection, predicate: Callable[[Frame], bool]) -> list[Frame]:
    """Frames up to the first that satisfies ``predicate``, waiting long enough for a worker's
    first model import (a first draft imports litellm, which takes seconds on this machine)."""
    return receive_within(socket, predicate, timeout=90)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def send(socket: ClientConnection, text: str) -> Frame:
    """A visitor message over the socket; returns its ack."""
    client_id = uuid.uuid4().hex
    socket.send(json.dumps({"type": "message", "text": text, "client_id": client_id}))
    return receive_until(socket, lambda f: f["type"] == "ack" and f["client_id"] == client_id)[-1]


def message_with(role: str, text: str | None = None) -> Callable[[Frame], bool]:
    return lambda f: (f["type"] in ("message", "message.created") and f["message"]["role"] == role
                      and (text is None or f["message"]["text"] == text))


def post(worker: Worker, path: str, token: str, body: dict[str, Any] | None = None) -> Any:
    with worker.http() as client:
        response = client.post(path, json=body or {}, headers=auth(token))
    response.raise_for_status()
    return response.json()


def escalated(worker: Worker) -> Frame:
    """A conversation started on ``worker`` whose first message went to the queue (the workers
    run without a knowledge base, so every question goes to a person)."""
    conversation = worker.start_visitor(name="Vi")
    reply = post(worker, "/api/visitor/messages", conversation["token"],
                 {"text": "my parcel never arrived", "client_id": uuid.uuid4().hex})
    assert {m["role"] for m in reply["replies"]} == {"system"}  # a person comes (and, if queued, when)
    return {**conversation, "seq": reply["replies"][-1]["seq"]}


def wait_for(check: Callable[[], Any], timeout: float = 60.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_visitor_on_one_worker_and_operator_on_another_talk_both_ways(cluster: Cluster) -> None:
    a, b = cluster.workers
    operator = b.new_operator(name="Bea")
    conversation = a.start_visitor(name="Vi")
    cid = conversation["conversation_id"]
    with b.operator_socket(operator["token"]) as desk, a.visitor_socket(conversation["token"]) as visitor:
        assert receive_json(desk)["type"] == "hello"
        assert receive_json(visitor)["state"] == "bot"
        assert send(visitor, "where is my order 5512?")["seq"] == 1
        queued = receive_until(desk, lambda f: f["type"] == "conversation.queued"
                               and f["conversation_id"] == cid)
        assert queued[-1]["state"] == "queued"
        told = receive_until(visitor, lambda f: f["type"] == "message" and "in line" in f["message"]["text"])
        assert told[-1]["message"]["seq"] == 3  # where the visitor stands, once routing ran

        desk.send(json.dumps({"type": "subscribe", "conversation_id": cid, "after": 0}))
        replayed = receive_until(desk, message_with("system"))
        assert [f["message"]["seq"] for f in replayed if f["type"] == "message.created"][-2:] == [1, 2]
        assert send(visitor, "hello? anyone?")["seq"] == 4
        live = receive_until(desk, message_with("visitor", "hello? anyone?"))[-1]
        assert live["seq"] == 4

        post(b, f"/api/operator/conversations/{cid}/reply", operator["token"],
             {"text": "Hi, Bea here: I'm checking order 5512 now.", "client_id": "r1"})
        frames = receive_until(visitor, message_with("operator"))
        assert any(f["type"] == "state" and f["state"] == "assigned" for f in frames)
        assert [(f["message"]["seq"], f["message"]["role"]) for f in frames if f["type"] == "message"] == \
            [(4, "visitor"), (5, "system"), (6, "operator")]  # its own message, then what B stored
        assert frames[-1]["message"]["text"] == "Hi, Bea here: I'm checking order 5512 now."


def test_a_visitor_resumes_on_the_other_worker_from_its_last_seq(cluster: Cluster) -> None:
    a, b = cluster.workers
    operator = b.new_operator()
    conversation = escalated(a)  # seq 1 (visitor), then the notices up to seq s
    cid, s = conversation["conversation_id"], conversation["seq"]
    post(b, f"/api/operator/conversations/{cid}/claim", operator["token"])  # seq s + 1: joined
    with a.visitor_socket(conversation["token"], after=s + 1) as visitor:
        receive_until(visitor, lambda f: f["type"] == "state")
        post(b, f"/api/operator/conversations/{cid}/reply", operator["token"], {"text": "first"})
        assert receive_until(visitor, message_with("operator"))[-1]["message"]["seq"] == s + 2
    for text in ("second", "third"):  # while the visitor is away
        post(b, f"/api/operator/conversations/{cid}/reply", operator["token"], {"text": text})
    with b.visitor_socket(conversation["token"], after=s + 2) as visitor:
        frames = receive_until(visitor, lambda f: f["type"] == "state")
    assert [(f["message"]["seq"], f["message"]["text"]) for f in frames if f["type"] == "message"] == \
        [(s + 3, "second"), (s + 4, "third")]
    assert frames[-1]["seq"] == s + 4


def test_two_workers_hammering_one_conversation_never_share_or_skip_a_seq(cluster: Cluster) -> None:
    a, b = cluster.workers
    operator = a.new_operator()
    conversation = escalated(a)
    cid = conversation["conversation_id"]
    post(a, f"/api/operator/conversations/{cid}/claim", operator["token"])
    per_worker = 25

    def burst(worker: Worker, who: str) -> list[int]:
        seqs = []
        with httpx.Client(base_url=worker.base_url, timeout=30) as client:
            for n in range(per_worker):
                if who == "visitor":
                    response = client.post("/api/visitor/messages", headers=auth(conversation["token"]),
                                           json={"text": f"visitor {worker.base_url} {n}",
                                                 "client_id": uuid.uuid4().hex})
                    seqs.append(response.json()["message"]["seq"])
                else:
                    response = client.post(f"/api/operator/conversations/{cid}/reply",
                                           headers=auth(operator["token"]),
                                           json={"text": f"operator {worker.base_url} {n}"})
                    seqs.append(response.json()["seq"])
                response.raise_for_status()
        return seqs

    with b.operator_socket(operator["token"]) as watcher:
        receive_until(watcher, lambda f: f["type"] == "hello")
        watcher.send(json.dumps({"type": "subscribe", "conversation_id": cid, "after": 0}))
        with ThreadPoolExecutor(4) as pool:
            jobs = [pool.submit(burst, worker, who) for worker in (a, b) for who in ("visitor", "operator")]
            acked = [seq for job in jobs for seq in job.result()]
        stored = [seq for (seq,) in cluster.sql(
            "SELECT seq FROM message WHERE conversation_id = %s ORDER BY seq", cid)]
        last = stored[-1]
        seen = receive_until(watcher, lambda f: f["type"] == "message.created" and f["seq"] == last)

    assert len(acked) == len(set(acked)) == 4 * per_worker
    assert stored == list(range(1, last + 1))  # unique and gapless
    assert cluster.sql("SELECT last_seq FROM conversation WHERE id = %s", cid) == [(last,)]
    live = [f["seq"] for f in seen if f["type"] == "message.created"]
    assert live == sorted(set(live)) and set(acked) <= set(live)  # in order, nothing twice, none lost


def _assigned_to(cluster: Cluster, operator_id: int) -> int:
    return cluster.sql("SELECT count(*) FROM conversation WHERE assignee_id = %s AND state = 'assigned'",
                       operator_id)[0][0]


def test_routing_on_two_workers_never_exceeds_capacity_or_assigns_twice(cluster: Cluster) -> None:
    a, b = cluster.workers
    operator = a.new_operator(capacity=2)
    operator_id = operator["operator"]["id"]
    with b.operator_socket(operator["token"]) as desk:
        receive_json(desk)
        post(a, "/api/operator/presence", operator["token"], {"status": "online"})
        try:
            with ThreadPoolExecutor(8) as pool:
                conversations = list(pool.map(escalated, [a, b] * 4))  # each routes on its own worker
            wait_for(lambda: _assigned_to(cluster, operator_id) == 2, what="two assignments")
            time.sleep(4 * INTERVAL_SECONDS)  # several periodic passes on both workers
            assert _assigned_to(cluster, operator_id) == 2
            ids = [c["conversation_id"] for c in conversations]
            twice = cluster.sql("SELECT conversation_id FROM transition WHERE to_state = 'assigned' AND "
                                "conversation_id = ANY(%s) GROUP BY conversation_id HAVING count(*) > 1", ids)
            assert twice == []
        finally:
            post(b, "/api/operator/presence", operator["token"], {"status": "offline"})


def test_an_operator_connected_to_one_worker_counts_as_present_on_the_other(cluster: Cluster) -> None:
    a, b = cluster.workers
    operator = a.new_operator(capacity=50)
    operator_id = operator["operator"]["id"]
    desk = b.operator_socket(operator["token"])
    receive_json(desk)
    post(a, "/api/operator/presence", operator["token"], {"status": "online"})  # set on A, connected to B
    conversation = escalated(a)
    cid = conversation["conversation_id"]

    def state() -> tuple[str, int | None]:
        return cluster.sql("SELECT state, assignee_id FROM conversation WHERE id = %s", cid)[0]

    try:
        wait_for(lambda: state() == ("assigned", operator_id), what="routing to the connected operator")
        time.sleep(GRACE_SECONDS * 2)  # both workers sweep presence many times over
        assert state() == ("assigned", operator_id)
        assert cluster.sql("SELECT status FROM operator WHERE id = %s", operator_id) == [("online",)]
        desk.close()
        wait_for(lambda: state()[0] == "queued", timeout=GRACE_SECONDS * 4, what="the hand-back")
        assert cluster.sql("SELECT status FROM operator WHERE id = %s", operator_id) == [("offline",)]
    finally:
        desk.close()
