"""Failure paths against the real sample shop: stopped, slowed past the timeout, answering errors,
refusing. The lookup says so (the operator carries on), an action fails with the reason and a
retry with the same idempotency key is performed at most once by the shop."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

from engine.settings import DEFAULT_ACTIONS, ActionSpec
from tests.engine.actions.conftest import Shop, bearer, refund, shop_settings, visitor_says
from tests.engine.conftest import Server, run_server

LAMP = ["My lamp arrived cracked, order LG-20417. I want my money back.", "a person please"]


def _account(server: Server, login: dict, cid: int) -> dict:
    with server.http() as http:
        response = http.get(f"/api/operator/conversations/{cid}/account", headers=bearer(login))
    assert response.status_code == 200, response.text
    return response.json()


def _act(server: Server, login: dict, cid: int, body: dict) -> dict:
    with server.http() as http:
        response = http.post(f"/api/operator/conversations/{cid}/actions", headers=bearer(login), json=body)
    assert response.status_code == 200, response.text
    return response.json()


def _retry(server: Server, login: dict, action_id: int) -> dict:
    with server.http() as http:
        response = http.post(f"/api/actions/{action_id}/retry", headers=bearer(login))
    assert response.status_code == 200, response.text
    return response.json()


def test_shop_stopped_lookup_says_so_and_a_retry_after_it_is_back_works(
    shop_server: Server, shop: Shop
) -> None:
    kim = shop_server.new_operator()
    cid = visitor_says(shop_server, LAMP)["conversation_id"]
    shop.stop()
    view = _account(shop_server, kim, cid)
    assert view["status"] == "unavailable" and "unreachable" in view["detail"]
    assert view["searched"] == {"order": "LG-20417"}
    failed = _act(shop_server, kim, cid, refund("LG-20417", "34.00", "Lamp base cracked"))
    assert (
        failed["status"] == "failed"
        and "unreachable" in failed["error"]
        and "retrying is safe" in failed["error"]
    )
    with shop_server.http() as http:  # the operator carries on: the conversation works as before
        reply = http.post(
            f"/api/operator/conversations/{cid}/reply",
            headers=bearer(kim),
            json={"text": "Our order system is down; I'll sort your refund shortly.", "client_id": "r1"},
        )
        assert reply.status_code == 200
        notes = http.get(f"/api/operator/conversations/{cid}/messages", headers=bearer(kim)).json()
    assert any(n["text"].startswith("Failed: Refund of £34.00 on LG-20417") for n in notes)

    shop.start()
    done = _retry(shop_server, kim, failed["id"])
    assert done["status"] == "completed" and done["attempts"] == 2
    assert [a["amount"] for a in shop.recorded()] == ["34.00"]


def test_shop_slower_than_the_timeout_then_retried_is_performed_once(shop_server: Server, shop: Shop) -> None:
    kim = shop_server.new_operator()
    cid = visitor_says(shop_server, LAMP)["conversation_id"]
    shop.faults(delay_seconds=4)  # the engine waits 1 s
    started = time.monotonic()
    view = _account(shop_server, kim, cid)
    assert (
        view["status"] == "unavailable" and view["detail"] == "the account system did not answer within 1 s"
    )
    assert time.monotonic() - started < 4  # the console is answered without waiting for the shop
    failed = _act(shop_server, kim, cid, refund("LG-20417", "20.00", "Lamp base cracked"))
    assert failed["status"] == "failed" and "may or may not have gone through" in failed["error"]
    # the slow shop did perform it after the engine gave up: wait until it has recorded it
    deadline = time.monotonic() + 10
    while not shop.recorded():
        assert time.monotonic() < deadline, "the slow shop never performed the refund"
        time.sleep(0.1)
    shop.faults()
    done = _retry(shop_server, kim, failed["id"])
    assert done["status"] == "completed" and done["result"]["replayed"] is True
    assert [a["amount"] for a in shop.recorded()] == ["20.00"]  # once, though asked twice
    assert _account(shop_server, kim, cid)["account"]["orders"][0]["refunded"] == "20.00"


def test_shop_answering_errors_and_refusals(shop_server: Server, shop: Shop) -> None:
    kim = shop_server.new_operator()
    cid = visitor_says(shop_server, LAMP)["conversation_id"]
    shop.faults(fail_status=503)
    view = _account(shop_server, kim, cid)
    assert view["status"] == "unavailable" and view["detail"] == "the account system failed (HTTP 503)"
    failed = _act(shop_server, kim, cid, refund("LG-20417", "10.00", "Lamp base cracked"))
    assert failed["status"] == "failed" and "failed (HTTP 503)" in failed["error"]
    assert shop.recorded() == []

    shop.faults()
    too_much = _act(
        shop_server, kim, cid, refund("LG-20417", "40.00", "Lamp and postage")
    )  # within £50, over £34
    assert too_much["status"] == "failed"
    assert too_much["error"] == (
        "the shop refused it: a refund of £40.00 is more than the £34.00 left to refund on LG-20417"
    )
    no_fee = _act(shop_server, kim, cid, refund("LG-20417", "5.00", "Goodwill gesture", kind="waive_fee"))
    assert "no unwaived fee of £5.00 on LG-20417" in no_fee["error"]
    assert shop.recorded() == []


def test_over_every_roles_limit_names_nobody_to_ask(shop_server: Server, shop: Shop) -> None:
    admin = shop_server.new_operator(role="admin")
    cid = visitor_says(shop_server, LAMP)["conversation_id"]
    with shop_server.http() as http:
        response = http.post(
            f"/api/operator/conversations/{cid}/actions",
            headers=bearer(admin),
            json=refund("LG-20417", "9000.00"),
        )
    assert response.status_code == 202
    assert response.json()["approvers"] == []
    with shop_server.http() as http:
        notes = http.get(f"/api/operator/conversations/{cid}/messages", headers=bearer(admin)).json()
    assert "nobody (it is over every role's limit)" in notes[-1]["text"]


def test_a_configured_action_the_shop_does_not_offer_is_refused_by_it(shop: Shop, tmp_path: Path) -> None:
    credit = ActionSpec(kind="goodwill_credit", label="Goodwill credit", limits={"operator": Decimal("10")})
    settings = shop_settings(shop, f"sqlite:///{tmp_path / 'baton.db'}", actions=[*DEFAULT_ACTIONS, credit])
    for server in run_server(settings, None):
        kim = server.new_operator()
        cid = visitor_says(server, LAMP)["conversation_id"]
        with server.http() as http:
            specs = http.get(f"/api/operator/conversations/{cid}/actions", headers=bearer(kim)).json()[
                "specs"
            ]
            assert specs[-1] == {
                "kind": "goodwill_credit",
                "label": "Goodwill credit",
                "unit": "GBP",
                "limit": "10",
            }
        failed = _act(
            server, kim, cid, refund("LG-20417", "5.00", "Sorry for the wait", kind="goodwill_credit")
        )
        assert failed["status"] == "failed" and failed["label"] == "Goodwill credit"
        assert failed["error"] == (
            "the shop refused it: this shop has no action 'goodwill_credit' "
            "(it has extend_deadline, refund, waive_fee)"
        )


def test_without_an_integration_the_console_is_told_and_nothing_is_done(shop: Shop, tmp_path: Path) -> None:
    settings = shop_settings(shop, f"sqlite:///{tmp_path / 'baton.db'}", integration_url=None)
    for server in run_server(settings, None):
        kim = server.new_operator()
        cid = visitor_says(server, LAMP)["conversation_id"]
        view = _account(server, kim, cid)
        assert view["status"] == "unconfigured" and "BATON_INTEGRATION_URL" in view["detail"]
        failed = _act(server, kim, cid, refund("LG-20417", "5.00", "Lamp base cracked"))
        assert failed["status"] == "failed"
        assert failed["error"] == "no account integration is configured, so nothing was done"
    assert shop.counts() == {"lookups": 0, "actions": 0, "performed": 0}
