"""A real ``baton serve`` killed with SIGKILL while the shop performs an account action.

The shop (the sample shop on a real socket) records the refund and then holds its answer back, so
the test knows from the shop's own record, not from a sleep, that the call is in flight when it
sends SIGKILL. The action is left ``running``; after a restart, once its lease has run out, a tick
performs it again with the same idempotency key: the shop answers with what it already did, the
action is completed, and the shop did the refund once.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from engine.db import make_engine
from engine.models import AccountAction, Message
from engine.settings import Settings
from tests.engine.actions.conftest import TOKEN, Shop, bearer, refund, visitor_says
from tests.engine.conftest import Server, free_port
from tests.engine.durability.test_sigkill import BATON, Baton

LAMP = ["My lamp arrived cracked, order LG-20417. I want my money back.", "a person please"]


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    running = Shop(db=tmp_path / "shop.db").start()
    yield running
    running.stop()


def stored_action(store_url: str) -> AccountAction:
    engine = make_engine(store_url)
    with Session(engine) as session:
        row = session.exec(select(AccountAction)).one()
    engine.dispose()
    return row


def notes(store_url: str, conversation_id: int) -> list[str]:
    engine = make_engine(store_url)
    with Session(engine) as session:
        texts = session.exec(select(Message.text).where(Message.conversation_id == conversation_id)).all()
    engine.dispose()
    return list(texts)


def test_an_action_cut_off_by_sigkill_is_performed_once_after_restart(
        store_url: str, shop: Shop, tmp_path: Path) -> None:
    env = {**os.environ, "BATON_DATABASE_URL": store_url, "BATON_INDEX_DIR": str(tmp_path / "no-index"),
           "BATON_ENVIRONMENT": "test", "BATON_SECRET_KEY": secrets.token_urlsafe(32),
           "BATON_ROUTING_INTERVAL_SECONDS": "0.3", "BATON_CONFIG": str(tmp_path / "none.toml"),
           "BATON_INTEGRATION_URL": shop.base_url, "BATON_INTEGRATION_AUTH_VALUE": f"Bearer {TOKEN}",
           "BATON_INTEGRATION_TIMEOUT_SECONDS": "2", "BATON_INTEGRATION_CACHE_SECONDS": "0"}
    subprocess.run([str(BATON), "db", "upgrade"], env=env, check=True, capture_output=True)
    server = Baton(env, tmp_path, needs_bot=False)
    server.start()
    try:
        view = Server(server.url, Settings(environment="test", database_url=store_url,
                                           secret_key=secrets.token_urlsafe(32)), None)
        kim = view.new_operator()
        cid = visitor_says(view, LAMP)["conversation_id"]
        shop.faults(delay_seconds=5)  # the refund is done at once; the answer waits past the kill

        cut: list[BaseException] = []

        def ask() -> None:
            try:
                with httpx.Client(base_url=server.url, timeout=30) as http:
                    http.post(f"/api/operator/conversations/{cid}/actions", headers=bearer(kim),
                              json=refund("LG-20417", "34.00", "Lamp base cracked"))
            except httpx.TransportError as exc:  # the server dies under the request
                cut.append(exc)

        caller = threading.Thread(target=ask)
        caller.start()
        deadline = time.monotonic() + 20
        while not shop.recorded():  # the shop has done it: the call is in flight
            assert time.monotonic() < deadline, "the shop never received the refund"
            time.sleep(0.02)
        server.kill()
        caller.join(timeout=30)
        assert cut, "the request was answered before the kill"
        cut_off = stored_action(store_url)
        assert cut_off.status == "running" and cut_off.attempts == 1

        shop.faults()
        server.port = free_port()
        server.start()
        deadline = time.monotonic() + 60
        while (done := stored_action(store_url)).status == "running":  # the lease runs out, a tick resumes
            assert time.monotonic() < deadline, "the interrupted action was never performed again"
            time.sleep(0.1)
        assert done.status == "completed" and done.result["replayed"] is True and done.attempts == 2
        assert done.lease_until is None
        assert [a["amount"] for a in shop.recorded()] == ["34.00"]  # once, though asked twice
        said = notes(store_url, cid)
        assert sum("was interrupted" in text for text in said) == 1
        assert sum(text.startswith("Done: ") for text in said) == 1
    finally:
        server.stop()
