"""The sample shop on a real socket beside a real engine server configured to use it.

``Shop`` runs ``engine.integrations.sample_shop`` under uvicorn in a thread, with its own SQLite
file; tests stop it, restart it on the same port, slow it down or make it fail through its
``/_control`` routes, and read what it recorded.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from engine.integrations.sample_shop import ShopState, create_shop
from engine.settings import Settings
from tests.engine.conftest import Server, free_port, run_server

TOKEN = "test-shop-token"


@dataclass
class Shop:
    db: Path
    port: int = field(default_factory=free_port)
    server: uvicorn.Server | None = None
    thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Shop:
        state = ShopState(db=self.db, token=TOKEN)
        self.server = uvicorn.Server(
            uvicorn.Config(
                create_shop(state), host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the sample shop did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
            self.thread.join(timeout=10)
            self.server = None

    def control(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)

    def faults(self, delay_seconds: float = 0.0, fail_status: int | None = None) -> None:
        with self.control() as http:
            http.put(
                "/_control/faults", json={"delay_seconds": delay_seconds, "fail_status": fail_status}
            ).raise_for_status()

    def recorded(self) -> list[dict[str, Any]]:
        with self.control() as http:
            return http.get("/_control/actions").json()["actions"]

    def counts(self) -> dict[str, int]:
        with self.control() as http:
            return http.get("/_control/actions").json()["counts"]


def shop_settings(shop: Shop, database_url: str, **overrides: Any) -> Settings:
    fields: dict[str, Any] = {
        "environment": "test", "secret_key": secrets.token_urlsafe(32), "database_url": database_url,
        "index_dir": Path("/nonexistent-index"), "routing_interval_seconds": 0.3,
        "integration_url": shop.base_url, "integration_auth_value": f"Bearer {TOKEN}",
        "integration_timeout_seconds": 1.0,
    }
    return Settings(**(fields | overrides))


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    running = Shop(db=tmp_path / "shop.db").start()
    yield running
    running.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def shop_server(request: pytest.FixtureRequest, shop: Shop, tmp_path: Path) -> Iterator[Server]:
    """An engine (a fresh SQLite file or PostgreSQL database; no bot: every visitor waits for a
    person) that uses ``shop``; no lookup cache, so each lookup meets the shop as it is now."""
    url = (f"sqlite:///{tmp_path / 'baton.db'}" if request.param == "sqlite"
           else request.getfixturevalue("fresh_postgres_url"))
    yield from run_server(shop_settings(shop, url, integration_cache_seconds=0), None)


def bearer(login: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {login['token']}"}


def visitor_says(server: Server, lines: list[str], **start: Any) -> dict[str, Any]:
    """A visitor conversation with these messages (queued for a person: the server has no bot)."""
    started = server.start_visitor(**start)
    with server.http() as http:
        for line in lines:
            http.post(
                "/api/visitor/messages",
                headers={"Authorization": f"Bearer {started['token']}"},
                json={"text": line, "client_id": secrets.token_hex(8)},
            ).raise_for_status()
    return started


def refund(
    order: str,
    amount: str,
    reason: str = "Kettle arrived dented",
    key: str | None = None,
    kind: str = "refund",
) -> dict[str, Any]:
    return {
        "kind": kind,
        "order_number": order,
        "amount": amount,
        "reason": reason,
        "idempotency_key": key or secrets.token_hex(12),
    }
