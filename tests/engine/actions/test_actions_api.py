"""Account context and actions over the REST API against the real sample shop on a socket:
lookups by email, phone and order number; a refund within the limit that the shop records; one
over the limit that waits for a supervisor; the same request twice performed once; the audit."""

from __future__ import annotations

import json
import threading
from decimal import Decimal
from typing import Any

import pytest

from tests.engine.actions.conftest import Shop, bearer, refund, visitor_says
from tests.engine.conftest import Server, receive_until

KETTLE = [
    "Hi, my copper kettle arrived dented, order LG-20500. I'd like a refund please.",
    "Can I talk to a person?",
]


def test_lookup_by_email_phone_or_the_order_in_the_conversation(shop_server: Server) -> None:
    kim = shop_server.new_operator(name="Kim Lee")
    by_email = visitor_says(shop_server, ["Where is my parcel?"], name="Mei", email="mei@example.org")
    by_order = visitor_says(shop_server, ["My lamp is cracked, order LG-20417"])
    anonymous = visitor_says(shop_server, ["hello?"])
    with shop_server.http() as http:

        def account(conversation: dict[str, Any], **params: str) -> dict[str, Any]:
            response = http.get(
                f"/api/operator/conversations/{conversation['conversation_id']}/account",
                params=params,
                headers=bearer(kim),
            )
            assert response.status_code == 200, response.text
            return response.json()

        mei = account(by_email)
        assert mei["status"] == "found" and mei["account"]["name"] == "Mei Lin"
        assert mei["searched"] == {"email": "mei@example.org"}
        assert mei["account"]["orders"][0]["status"] == "dispatched"
        priya = account(by_order)
        assert priya["account"]["name"] == "Priya Shah" and priya["searched"]["order"] == "LG-20417"
        nothing = account(anonymous)
        assert nothing["status"] == "not_found" and "no email, phone or order number" in nothing["detail"]
        tom = account(anonymous, search="+44 7700 900456")
        assert tom["status"] == "found" and tom["account"]["name"] == "Tom Becker"
        assert account(anonymous, search="nobody@example.org")["status"] == "not_found"
        assert (
            http.get(
                f"/api/operator/conversations/{anonymous['conversation_id']}/account",
                headers=bearer(kim),
                params={"search": "x"},
            ).status_code
            == 422
        )


def test_the_conversation_suggests_a_refund_with_its_evidence(shop_server: Server) -> None:
    kim = shop_server.new_operator()
    conversation = visitor_says(shop_server, KETTLE, email="alex@example.org")
    with shop_server.http() as http:
        view = http.get(
            f"/api/operator/conversations/{conversation['conversation_id']}/account", headers=bearer(kim)
        ).json()
    (suggestion,) = view["suggestions"]
    assert suggestion["kind"] == "refund" and suggestion["order_number"] == "LG-20500"
    assert (
        Decimal(suggestion["amount"]) == Decimal("89.00") and suggestion["unit"] == "GBP"
    )  # the kettle only
    assert suggestion["evidence"][0] == "Visitor: “Hi, my copper kettle arrived dented, order LG-20500.”"
    assert "Order LG-20500: delivered" in suggestion["evidence"]


def test_refund_within_the_limit_is_recorded_by_the_shop_and_noted_internally(
    shop_server: Server, shop: Shop
) -> None:
    kim = shop_server.new_operator(name="Kim Lee")
    conversation = visitor_says(shop_server, KETTLE, email="alex@example.org")
    cid = conversation["conversation_id"]
    with shop_server.http() as http:
        response = http.post(
            f"/api/operator/conversations/{cid}/actions",
            headers=bearer(kim),
            json=refund("LG-20500", "24.00", "Mug set arrived chipped"),
        )
        assert response.status_code == 200, response.text
        done = response.json()
        assert done["status"] == "completed" and done["requested_by_name"] == "Kim Lee"
        assert done["result"]["reference"].startswith("REF-")
        assert done["visitor_text"].startswith("I've refunded £24.00 for order LG-20500")
        (recorded,) = shop.recorded()
        assert (recorded["kind"], recorded["order_number"], recorded["amount"]) == (
            "refund",
            "LG-20500",
            "24.00",
        )
        assert recorded["reason"] == "Mug set arrived chipped" and recorded["idempotency_key"]
        assert recorded["requested_by"] == kim["operator"]["email"]
        view = http.get(f"/api/operator/conversations/{cid}/account", headers=bearer(kim)).json()
        assert view["account"]["orders"][0]["refunded"] == "24.00"
        assert view["account"]["orders"][0]["status"] == "partially refunded"

        notes = [
            m
            for m in http.get(f"/api/operator/conversations/{cid}/messages", headers=bearer(kim)).json()
            if m["role"] == "system" and m["visibility"] == "internal"
        ]
        assert [n["text"].split(":")[0] for n in notes] == [
            "Kim Lee asked for a refund of £24.00 on LG-20500, within their limit. Reason",
            "Done",
        ]
        assert "reference REF-" in notes[1]["text"]
        seen = http.get("/api/visitor/messages", headers={"Authorization": f"Bearer {conversation['token']}"})
        assert not [m for m in seen.json()["messages"] if "refund of £24.00" in m["text"]]


def test_over_the_limit_waits_for_a_supervisor_who_approves_it(shop_server: Server, shop: Shop) -> None:
    kim = shop_server.new_operator(name="Kim Lee")
    sue = shop_server.new_operator(role="supervisor", name="Sue Park")
    cid = visitor_says(shop_server, KETTLE, email="alex@example.org")["conversation_id"]
    with shop_server.http() as http, shop_server.operator_socket(sue["token"]) as sue_socket:
        assert json.loads(sue_socket.recv(timeout=10))["type"] == "hello"
        response = http.post(
            f"/api/operator/conversations/{cid}/actions",
            headers=bearer(kim),
            json=refund("LG-20500", "89.00"),
        )
        assert response.status_code == 202, response.text
        waiting = response.json()
        assert waiting["status"] == "awaiting_approval" and "Sue Park" in waiting["approvers"]
        frames = receive_until(sue_socket, lambda f: f["type"] == "action.updated")
        assert frames[-1]["action"]["id"] == waiting["id"] and frames[-1]["conversation_id"] == cid
        assert shop.recorded() == []  # nothing done yet

        refused = http.post(f"/api/actions/{waiting['id']}/approve", headers=bearer(kim), json={})
        assert refused.status_code == 403
        assert refused.json()["detail"] == (
            "Refund of £89.00 on LG-20500 is over your limit of £50.00: it needs a supervisor or an admin"
        )
        approved = http.post(
            f"/api/actions/{waiting['id']}/approve", headers=bearer(sue), json={"note": "Loyal customer"}
        )
        assert approved.status_code == 200, approved.text
        assert approved.json()["status"] == "completed" and approved.json()["approved_by_name"] == "Sue Park"
        (recorded,) = shop.recorded()
        assert recorded["amount"] == "89.00" and recorded["approved_by"] == sue["operator"]["email"]
        again = http.post(f"/api/actions/{waiting['id']}/approve", headers=bearer(sue), json={})
        assert again.status_code == 409 and "completed, not awaiting approval" in again.json()["detail"]
        assert len(shop.recorded()) == 1


def test_the_same_request_twice_is_performed_once(shop_server: Server, shop: Shop) -> None:
    kim = shop_server.new_operator()
    cid = visitor_says(shop_server, KETTLE, email="alex@example.org")["conversation_id"]
    body = refund("LG-20500", "10.00", key="double-click-0001")
    answers: list[dict[str, Any]] = []

    def click() -> None:
        with shop_server.http() as http:
            response = http.post(f"/api/operator/conversations/{cid}/actions", headers=bearer(kim), json=body)
            assert response.status_code == 200, response.text
            answers.append(response.json())

    clicks = [threading.Thread(target=click) for _ in range(2)]
    for thread in clicks:
        thread.start()
    for thread in clicks:
        thread.join()
    assert len({a["id"] for a in answers}) == 1
    assert len(shop.recorded()) == 1
    with shop_server.http() as http:
        later = http.post(f"/api/operator/conversations/{cid}/actions", headers=bearer(kim), json=body).json()
        assert later["id"] == answers[0]["id"] and later["status"] == "completed"
        other = http.post(
            f"/api/operator/conversations/{cid}/actions",
            headers=bearer(kim),
            json={**body, "amount": "11.00"},
        )
        assert other.status_code == 409 and "already used for a different action" in other.json()["detail"]
    assert len(shop.recorded()) == 1


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"reason": "  "}, "reason", "a reason is required"),
        ({"kind": "teleport"}, "kind", "unknown action 'teleport'"),
        ({"amount": "0"}, "amount", "more than zero"),
        ({"amount": "1.234"}, "amount", "decimal"),
        ({"kind": "extend_deadline", "amount": "2.5"}, "amount", "whole number of days"),
        ({"idempotency_key": "short"}, "idempotency_key", "at least 8"),
        ({"order_number": "LG-20500\u0000"}, "order_number", "NUL character"),
    ],
)
def test_bad_requests_are_refused_naming_what_is_wrong(
    shop_server: Server, shop: Shop, change: dict[str, str], field: str, says: str
) -> None:
    kim = shop_server.new_operator()
    cid = visitor_says(shop_server, KETTLE, email="alex@example.org")["conversation_id"]
    with shop_server.http() as http:
        response = http.post(
            f"/api/operator/conversations/{cid}/actions",
            headers=bearer(kim),
            json={**refund("LG-20500", "5.00"), **change},
        )
    assert response.status_code == 422
    assert field in response.text and says in response.text
    assert shop.recorded() == []


def test_audit_lists_who_did_what_and_the_result(shop_server: Server, shop: Shop) -> None:
    kim = shop_server.new_operator(name="Kim Lee")
    cid = visitor_says(shop_server, KETTLE, email="alex@example.org")["conversation_id"]
    with shop_server.http() as http:
        http.post(
            f"/api/operator/conversations/{cid}/actions",
            headers=bearer(kim),
            json=refund("LG-20211", "7.50", "Late fee waived: courier delay", kind="waive_fee"),
        )
        http.post(
            f"/api/operator/conversations/{cid}/actions",
            headers=bearer(kim),
            json=refund("LG-20500", "7", "Away until the new year", kind="extend_deadline"),
        )
        audit = http.get("/api/actions", headers=bearer(kim)).json()
        listed = http.get(f"/api/operator/conversations/{cid}/actions", headers=bearer(kim)).json()
    assert [(a["kind"], a["amount"], a["unit"], a["status"], a["requested_by_name"]) for a in audit] == [
        ("extend_deadline", "7.00", "days", "completed", "Kim Lee"),
        ("waive_fee", "7.50", "GBP", "completed", "Kim Lee"),
    ]
    assert audit[0]["result"]["message"].startswith("return deadline moved to")
    assert [a["id"] for a in listed["actions"]] == [a["id"] for a in reversed(audit)]
    assert {s["kind"]: s["limit"] for s in listed["specs"]} == {
        "refund": "50",
        "waive_fee": "25",
        "extend_deadline": "14",
    }
    assert [a["kind"] for a in shop.recorded()] == ["waive_fee", "extend_deadline"]
    with shop_server.http() as http:  # counted in the report
        http.post(
            f"/api/operator/conversations/{cid}/actions",
            headers=bearer(kim),
            json=refund("LG-20500", "60.00"),
        )
        report = http.get("/api/metrics", headers=bearer(kim)).json()["actions"]
    assert report == {
        "asked": 3,
        "by_status": {"awaiting_approval": 1, "completed": 2},
        "completed_by_kind": {"extend_deadline": 1, "waive_fee": 1},
        "completed_amounts": {"GBP": "7.50", "days": "7.00"},
        "needed_approval": 1,
    }
