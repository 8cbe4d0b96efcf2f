"""A contact's region and customer value as routing inputs, set through the API.

An EU contact's conversation waits for an operator with the ``region:eu`` skill rather than going to
a freer one without it; a contact whose value reaches ``high_value_threshold`` moves ahead of an
earlier normal conversation in the queue; a bad region or value is refused with a 422 naming it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from engine.service import policy
from tests.engine.conftest import Server
from tests.engine.routing_inputs.test_routing_api import bearer, desk, operator, owner, say

__all__ = ["desk"]  # the fixture, shared with the other routing-input tests


def patch_contact(http: httpx.Client, token: str, contact_id: int, body: Any) -> httpx.Response:
    return http.patch(f"/api/operator/contacts/{contact_id}", headers=bearer(token), json=body)


def contact_of(http: httpx.Client, token: str, conversation_id: int) -> dict[str, Any]:
    return http.get(f"/api/operator/conversations/{conversation_id}", headers=bearer(token)).json()["contact"]


def position(http: httpx.Client, token: str, conversation_id: int) -> int:
    detail = http.get(f"/api/operator/conversations/{conversation_id}", headers=bearer(token)).json()
    return detail["queue"]["position"]


def test_an_eu_contact_reaches_the_operator_with_the_region(desk: Server) -> None:
    admin = desk.new_operator(role="admin", name="Ada Admin")
    token = admin["token"]
    with desk.http() as http:
        rita = operator(http, admin, "Rita", ["region:eu"])
        first = desk.start_visitor(name="Ann")
        say(http, first, "I want to talk to a person")
        rita_id = rita["operator"]["id"]
        assert owner(http, admin["token"], first["conversation_id"])[:2] == ("assigned", rita_id)
        sam = operator(http, admin, "Sam", [])  # free, where Rita has one already: he would be next
        eve = desk.start_visitor(name="Eve")
        contact = contact_of(http, admin["token"], eve["conversation_id"])
        changed = patch_contact(http, sam["token"], contact["id"], {"region": "eu"})
        assert changed.status_code == 200, changed.text
        assert changed.json()["region"] == "eu" and changed.json()["value"] is None
        say(http, eve, "I want to talk to a person")
        assert owner(http, admin["token"], eve["conversation_id"])[:2] == ("assigned", rita_id)
        third = desk.start_visitor(name="Bea")  # no region: the freer operator, as before
        say(http, third, "I want to talk to a person")
        assert owner(http, token, third["conversation_id"])[:2] == ("assigned", sam["operator"]["id"])
        cleared = patch_contact(http, sam["token"], contact["id"], {"region": None})
        assert cleared.status_code == 200 and cleared.json()["region"] is None


def test_a_high_value_contact_goes_ahead_of_an_earlier_one(desk: Server) -> None:
    admin = desk.new_operator(role="admin", name="Ada Admin")
    token = admin["token"]
    with desk.http() as http:
        earlier, later = desk.start_visitor(name="Ann"), desk.start_visitor(name="Vic")
        say(http, earlier, "I want to talk to a person")
        say(http, later, "I want to talk to a person")
        assert [position(http, token, v["conversation_id"]) for v in (earlier, later)] == [1, 2]
        vic = contact_of(http, token, later["conversation_id"])["id"]
        below = patch_contact(http, token, vic, {"value": 999.5})  # the default threshold is 1000
        assert below.status_code == 200, below.text
        assert [position(http, token, v["conversation_id"]) for v in (earlier, later)] == [1, 2]
        high = patch_contact(http, token, vic, {"value": 1000})
        assert high.status_code == 200 and high.json()["value"] == 1000.0
        assert [position(http, token, v["conversation_id"]) for v in (earlier, later)] == [2, 1]
        taker = operator(http, admin, "Sam", [])  # routing takes the queue in that order too
        assert owner(http, token, later["conversation_id"])[:2] == ("assigned", taker["operator"]["id"])


def test_a_bad_region_or_value_is_refused(desk: Server) -> None:
    admin = desk.new_operator(role="admin", name="Ada Admin")
    token = admin["token"]
    with desk.http() as http:
        visitor = desk.start_visitor(name="Ann")
        contact = contact_of(http, token, visitor["conversation_id"])["id"]
        for bad, field in (
            ({"region": "EU"}, "region"),
            ({"region": "us west"}, "region"),
            ({"region": "-eu"}, "region"),
            ({"region": "x" * 33}, "region"),
            ({"value": -1}, "value"),
            ({"value": "lots"}, "value"),
            ({"colour": "red"}, "colour"),
        ):
            refused = patch_contact(http, token, contact, bad)
            assert refused.status_code == 422 and field in refused.text, (bad, refused.text)
        infinite = http.patch(f"/api/operator/contacts/{contact}", headers={**bearer(token),
                              "Content-Type": "application/json"}, content='{"value": Infinity}')
        assert infinite.status_code == 422 and "value" in infinite.text, infinite.text
        stored = contact_of(http, token, visitor["conversation_id"])
        assert (stored["region"], stored["value"]) == (None, None)  # nothing was stored
        assert patch_contact(http, token, 999_999, {"region": "eu"}).status_code == 404
        assert http.patch(f"/api/operator/contacts/{contact}", json={"region": "eu"}).status_code == 401


def test_region_and_value_rules_are_pure() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    earlier = policy.QueuedSnapshot(id=1, queued_at=now - timedelta(seconds=60))
    valued = policy.QueuedSnapshot(id=2, queued_at=now, value=2500.0, region="eu")
    rules = policy.RoutingPolicy(high_value_threshold=2000.0)
    assert [c.id for c in policy.queue_order([earlier, valued], now, rules)] == [2, 1]
    assert [c.id for c in policy.queue_order([earlier, valued], now, policy.RoutingPolicy(
        high_value_threshold=3000.0))] == [1, 2]
    eu, anyone = policy.OperatorSnapshot(id=1, skills=frozenset({"region:eu"})), policy.OperatorSnapshot(id=2)
    assert policy.can_serve(eu, valued, {}, now) and not policy.can_serve(anyone, valued, {}, now)
    assert policy.can_serve(anyone, earlier, {}, now)
