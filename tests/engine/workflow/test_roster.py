"""GET /api/operators: every operator with status and load, and the teams, over a real server.
The supervisor view and the console's transfer dialog read it."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from engine.settings import Settings
from tests.engine.conftest import Server, run_server


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    settings = Settings(environment="test", secret_key=secrets.token_urlsafe(32),
                        database_url=f"sqlite:///{tmp_path_factory.mktemp('roster') / 'baton.db'}",
                        index_dir=tmp_path_factory.mktemp("no-index"))
    yield from run_server(settings, None)


def test_roster_counts_open_conversations_and_shows_status(desk: Server) -> None:
    sam, kim = desk.new_operator(name="Sam"), desk.new_operator(name="Kim")
    auth = {"Authorization": f"Bearer {sam['token']}"}
    with desk.http() as http:
        for _ in range(2):
            visitor = desk.start_visitor()
            claimed = http.post(f"/api/operator/conversations/{visitor['conversation_id']}/claim",
                                headers=auth)
            assert claimed.status_code == 200, claimed.text
        http.post("/api/operator/presence", json={"status": "away"}, headers=auth).raise_for_status()
        roster = http.get("/api/operators", headers=auth)
        refused = http.get("/api/operators")
    assert refused.status_code == 401
    assert roster.status_code == 200
    by_id = {o["id"]: o for o in roster.json()["operators"]}
    assert by_id[sam["operator"]["id"]]["open"] == 2 and by_id[sam["operator"]["id"]]["status"] == "away"
    assert by_id[kim["operator"]["id"]]["open"] == 0 and by_id[kim["operator"]["id"]]["status"] == "offline"
    assert roster.json()["teams"] == []
