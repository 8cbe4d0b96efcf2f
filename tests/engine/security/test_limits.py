"""Every rate limit is hit and then recovers once its window has passed (the test waits the
``Retry-After`` the server named, then the same request goes through), on REST and on sockets,
and the Redis-backed counters hold across two workers."""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Callable

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from engine.api.limits import CLOSE_CODE
from tests.engine.channels.conftest import SMS_SID, SMS_TOKEN
from tests.engine.conftest import Server, receive_json, receive_until
from tests.engine.security.conftest import bearer, client_from, new_client_id, post_sms_fields

WINDOW = "4 seconds"  # long enough that a slow request on a busy machine stays inside it


def refused(response: httpx.Response) -> int:
    """The Retry-After of a 429 that names its limit; fails on anything else."""
    assert response.status_code == 429, response.text
    assert response.json()["detail"].startswith("too many "), response.text
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 4
    return retry_after


def wait_out(retry_after: int) -> None:
    """Let the window the server named pass (the point of the test: the limit recovers)."""
    time.sleep(retry_after)


def test_conversation_starts_per_address(limited: Callable[..., Server]) -> None:
    server = limited(limit_conversation_starts=f"3/{WINDOW}")
    with client_from(server, "127.0.0.2") as first, client_from(server, "127.0.0.3") as second:
        for _ in range(3):
            assert first.post("/api/visitor/conversations", json={}).status_code == 201
        retry_after = refused(first.post("/api/visitor/conversations", json={}))
        assert second.post("/api/visitor/conversations", json={}).status_code == 201  # another address
        wait_out(retry_after)
        assert first.post("/api/visitor/conversations", json={}).status_code == 201


def test_every_request_per_address(limited: Callable[..., Server]) -> None:
    server = limited(limit_address=f"4/{WINDOW}")
    with client_from(server, "127.0.0.4") as client:
        token = client.post("/api/visitor/conversations", json={}).json()["token"]
        for _ in range(3):
            assert client.get("/api/visitor/messages", headers=bearer(token)).status_code == 200
        retry_after = refused(client.get("/api/visitor/messages", headers=bearer(token)))
        with pytest.raises(ConnectionClosed) as closed, connect(  # a socket connect counts too
                f"{server.ws_url}/ws/visitor?token={token}", source_address=("127.0.0.4", 0)) as socket:
            socket.recv(timeout=10)
        assert closed.value.rcvd.code == CLOSE_CODE and "retry in" in closed.value.rcvd.reason
        wait_out(retry_after)
        assert client.get("/api/visitor/messages", headers=bearer(token)).status_code == 200


def test_requests_per_visitor_token(limited: Callable[..., Server]) -> None:
    server = limited(limit_visitor=f"3/{WINDOW}")
    mine, other = server.start_visitor()["token"], server.start_visitor()["token"]
    with server.http() as client:
        for _ in range(3):
            assert client.get("/api/visitor/messages", headers=bearer(mine)).status_code == 200
        retry_after = refused(client.get("/api/visitor/messages", headers=bearer(mine)))
        assert client.get("/api/visitor/messages", headers=bearer(other)).status_code == 200
        wait_out(retry_after)
        assert client.get("/api/visitor/messages", headers=bearer(mine)).status_code == 200


def test_socket_frames_per_visitor_token_close_with_4429(limited: Callable[..., Server]) -> None:
    server = limited(limit_visitor=f"3/{WINDOW}")
    token = server.start_visitor()["token"]
    with server.visitor_socket(token) as socket:
        receive_json(socket)  # state
        for _ in range(4):
            socket.send('{"type": "typing", "on": true}')
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=10)
    assert closed.value.rcvd.code == CLOSE_CODE
    retry_after = int(closed.value.rcvd.reason.rsplit("retry in ", 1)[1].split()[0])
    wait_out(retry_after)
    with server.visitor_socket(token) as socket:
        assert receive_json(socket)["type"] == "state"
        socket.send('{"type": "read", "seq": 0}')
        socket.send('{"type": "nonsense"}')
        assert receive_json(socket)["type"] == "error"  # served again, not closed


def test_messages_per_conversation_on_rest_and_socket(limited: Callable[..., Server]) -> None:
    server = limited(limit_messages=f"2/{WINDOW}")
    token = server.start_visitor()["token"]
    with server.http() as client:
        sent = [client.post("/api/visitor/messages", headers=bearer(token),
                            json={"text": f"hello {n}", "client_id": new_client_id()}) for n in range(3)]
        assert [r.status_code for r in sent[:2]] == [200, 200]
        retry_after = refused(sent[2])
        wait_out(retry_after)
        with server.visitor_socket(token) as socket:  # the socket shares the conversation's count
            receive_until(socket, lambda f: f["type"] == "state")
            ids = [new_client_id() for _ in range(3)]
            for client_id in ids:
                socket.send(f'{{"type": "message", "text": "again", "client_id": "{client_id}"}}')
            acks = []
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    frame = receive_json(socket)
                    if frame["type"] == "ack":
                        acks.append(frame["client_id"])
        assert closed.value.rcvd.code == CLOSE_CODE
        assert acks == ids[:2]  # what was acknowledged is stored; the third was refused, not lost silently
        history = client.get("/api/visitor/messages", headers=bearer(token)).json()["messages"]
        stored = [m["client_id"] for m in history if m["role"] == "visitor"]
        assert stored[-2:] == ids[:2] and ids[2] not in stored


def test_failed_logins_lock_the_account_without_checking_the_password(limited: Callable[..., Server]) -> None:
    server = limited(limit_login_failures=f"3/{WINDOW}")
    account = server.new_operator()["operator"]["email"]
    with server.http() as client:
        for _ in range(3):
            wrong = client.post("/api/operator/login", json={"email": account, "password": "guess-guess"})
            assert wrong.status_code == 401
        # locked: even the right password is refused, so no argon2 work is done for this account
        retry_after = refused(client.post("/api/operator/login",
                                          json={"email": account.upper(), "password": "correct-horse"}))
        other = server.new_operator()  # other accounts log in as usual
        assert other["token"]
        wait_out(retry_after)
        assert client.post("/api/operator/login",
                           json={"email": account, "password": "correct-horse"}).status_code == 200


def test_login_attempts_per_address(limited: Callable[..., Server]) -> None:
    server = limited(limit_login_address=f"3/{WINDOW}")
    with client_from(server, "127.0.0.5") as client:
        for n in range(3):
            attempt = client.post("/api/operator/login",
                                  json={"email": f"nobody-{n}@example.com", "password": "whatever1"})
            assert attempt.status_code == 401
        retry_after = refused(client.post("/api/operator/login",
                                          json={"email": "nobody-4@example.com", "password": "x"}))
        wait_out(retry_after)
        assert client.post("/api/operator/login",
                           json={"email": "nobody@example.com", "password": "x"}).status_code == 401


@pytest.mark.redis
def test_limits_hold_across_workers_through_redis(limited: Callable[..., Server], tmp_path) -> None:
    shared = {"redis_url": "redis://127.0.0.1:6379/0", "redis_prefix": f"limits-test-{uuid.uuid4().hex[:8]}",
              "limit_conversation_starts": f"4/{WINDOW}",
              "database_url": f"sqlite:///{tmp_path / 'shared.db'}"}
    first, second = limited(**shared), limited(**shared)
    with first.http() as a, second.http() as b:
        answers = [client.post("/api/visitor/conversations", json={}).status_code
                   for client in (a, b, a, b)]
        assert answers == [201, 201, 201, 201]
        retry_after = refused(a.post("/api/visitor/conversations", json={}))
        refused(b.post("/api/visitor/conversations", json={}))  # the other worker counts the same starts
        wait_out(retry_after)
        assert b.post("/api/visitor/conversations", json={}).status_code == 201


def test_channel_messages_per_sender(limited: Callable[..., Server]) -> None:
    server = limited(limit_messages=f"2/{WINDOW}", sms_auth_token=SMS_TOKEN, sms_account_sid=SMS_SID)
    flooding, other = f"+1555{secrets.randbelow(10**7):07d}", f"+1556{secrets.randbelow(10**7):07d}"
    answers = [post_sms_fields(server, From=flooding, Body=f"text {n}") for n in range(3)]
    assert [a.status_code for a in answers[:2]] == [200, 200]
    retry_after = refused(answers[2])
    assert post_sms_fields(server, From=other, Body="hello").status_code == 200
    wait_out(retry_after)
    assert post_sms_fields(server, From=flooding, Body="later").status_code == 200
