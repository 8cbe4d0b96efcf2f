"""Several ``baton serve`` worker processes over one PostgreSQL database and one Redis.

Each worker is a real process started the way a deployment starts it (``baton serve`` with
``BATON_*`` variables), so nothing is shared between workers but the database and Redis: not the
presence tracker, not the routing lock, not the bus. Each cluster gets a database and a Redis
prefix of its own, so parallel runs never see each other's rows or events.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
from websockets.sync.client import ClientConnection, connect

from engine.db import create_all, make_engine
from engine.settings import Settings
from tests.engine.conftest import PG_ADMIN, PG_URL, Server, free_port

REDIS_URL = "redis://127.0.0.1:6379/0"
BATON = Path(sys.executable).parent / "baton"


@dataclass
class Worker(Server):
    """One ``baton serve`` process; the helpers of the engine tests' ``Server`` work against it
    (``new_operator`` logs in on this worker; the token is good on every worker)."""

    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    # Long timeouts and no client keepalive: a worker's first draft imports litellm on its event
    # loop (seconds on this machine), which delays events but must not fail these tests.
    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=90)

    def visitor_socket(self, token: str, after: int = 0) -> ClientConnection:
        return connect(f"{self.ws_url}/ws/visitor?token={token}&after={after}", open_timeout=90,
                       ping_interval=None)

    def operator_socket(self, token: str) -> ClientConnection:
        return connect(f"{self.ws_url}/ws/operator?token={token}", open_timeout=90, ping_interval=None)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class Cluster:
    settings: Settings
    workers: list[Worker] = field(default_factory=list)

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        """Rows straight from the shared database, to check what the workers stored."""
        with psycopg.connect(self.settings.database_url.replace("+psycopg", "")) as connection:
            return connection.execute(query, params).fetchall()


@contextmanager
def fresh_database() -> Iterator[str]:
    """A PostgreSQL database of its own with the current tables, dropped afterwards."""
    name = f"baton_scale_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = PG_URL.format(name=name)
    engine = make_engine(url)
    create_all(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_worker(settings: Settings, env: dict[str, str], workdir: Path, number: int) -> Worker:
    port = free_port()
    log_path = workdir / f"worker-{number}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([str(BATON), "serve", "--port", str(port), "--log-level", "warning"],
                                   env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
    worker = Worker(f"http://127.0.0.1:{port}", settings, None, process, log_path)
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"worker {number} exited: {log_path.read_text()[-2000:]}")
        try:
            if httpx.get(f"{worker.base_url}/health", timeout=1).status_code == 200:
                return worker
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            worker.stop()
            raise RuntimeError(f"worker {number} did not start: {log_path.read_text()[-2000:]}")
        time.sleep(0.1)


@contextmanager
def running_cluster(workdir: Path, workers: int = 2, **settings: str) -> Iterator[Cluster]:
    """``workers`` processes on one fresh database and one Redis prefix. ``settings`` are extra
    ``BATON_*`` values (lower-case names, as in ``Settings``)."""
    workdir.mkdir(parents=True, exist_ok=True)
    with fresh_database() as database_url:
        values = {"environment": "test", "secret_key": secrets.token_urlsafe(32),
                  "database_url": database_url, "redis_url": REDIS_URL,
                  "redis_prefix": f"baton-test-{uuid.uuid4().hex[:12]}",
                  "index_dir": str(workdir / "no-index"),
                  "rate_limits": "false",  # faster than a visitor may write; limits: tests/engine/security
                  **settings}
        env = {key: value for key, value in os.environ.items() if not key.startswith("BATON_")}
        env.update({f"BATON_{key.upper()}": value for key, value in values.items()})
        env["BATON_CONFIG"] = str(workdir / "no-baton.toml")  # never a stray baton.toml
        cluster = Cluster(Settings(**values))
        try:
            for number in range(workers):
                cluster.workers.append(start_worker(cluster.settings, env, workdir, number))
            yield cluster
        finally:
            for worker in cluster.workers:
                worker.stop()
