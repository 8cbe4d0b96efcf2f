"""Lookups are cached briefly (and dropped after an action changed an order), and the bot's turn
never calls the integration: a visitor is answered without the shop being asked anything."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.service.bot import Bot
from tests.engine.actions.conftest import Shop, bearer, refund, shop_settings, visitor_says
from tests.engine.conftest import Server, run_server


@pytest.fixture
def cached_server(shop: Shop, tmp_path: Path, kb_index: Path, bot: Bot) -> Iterator[Server]:
    """With the bot answering from the test knowledge base, and lookups cached for 30 s."""
    settings = shop_settings(
        shop, f"sqlite:///{tmp_path / 'baton.db'}", integration_cache_seconds=30, index_dir=kb_index
    )
    yield from run_server(settings, bot)


def test_a_lookup_is_reused_until_an_action_changes_the_order(cached_server: Server, shop: Shop) -> None:
    kim = cached_server.new_operator()
    # the bot answers this one, so nothing drafts in the background: every lookup is the console's
    cid = visitor_says(cached_server, ["How long does shipping take for order LG-20500?"])["conversation_id"]

    def look() -> dict:
        with cached_server.http() as http:
            return http.get(f"/api/operator/conversations/{cid}/account", headers=bearer(kim)).json()

    first = look()
    assert first["status"] == "found" and first["cached_seconds"] is None
    second = look()
    assert second["cached_seconds"] is not None and second["account"] == first["account"]
    assert shop.counts()["lookups"] == 1
    shop.stop()
    assert look()["status"] == "found"  # the cache carries a brief outage
    shop.start()
    with cached_server.http() as http:
        done = http.post(
            f"/api/operator/conversations/{cid}/actions",
            headers=bearer(kim),
            json=refund("LG-20500", "5.00", "Dent on the lid"),
        )
    assert done.json()["status"] == "completed"
    fresh = look()
    assert fresh["cached_seconds"] is None and fresh["account"]["orders"][0]["refunded"] == "5.00"


def test_the_bot_answers_without_asking_the_shop(cached_server: Server, shop: Shop) -> None:
    started = cached_server.start_visitor(email="alex@example.org")
    with cached_server.http() as http:
        response = http.post(
            "/api/visitor/messages",
            headers={"Authorization": f"Bearer {started['token']}"},
            json={"text": "How long does shipping take for order LG-20500?", "client_id": "q1"},
        )
    assert response.status_code == 200, response.text
    (reply,) = response.json()["replies"]
    assert reply["role"] == "bot" and "business days" in reply["text"]
    assert shop.counts() == {"lookups": 0, "actions": 0, "performed": 0}
