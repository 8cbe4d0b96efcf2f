"""The pure rules of account actions: limits per role, who may approve, valid requests, and which
action a conversation calls for with its evidence (no database, no network)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from engine.integrations import Account, Fee, Order, OrderItem
from engine.service import action_rules as rules
from engine.settings import DEFAULT_ACTIONS, ActionSpec
from knowledge.errors import InputError

REFUND = rules.spec_for(DEFAULT_ACTIONS, "refund")


def _account(**order: object) -> Account:
    fields = {
        "number": "LG-1",
        "status": "delivered",
        "placed_at": datetime(2026, 11, 20, tzinfo=UTC),
        "delivered_at": datetime(2026, 11, 25, tzinfo=UTC),
        "return_deadline": date(2026, 12, 25),
        "currency": "GBP",
        "total": Decimal("60.00"),
        "items": [
            OrderItem(name="Oak bookends", price=Decimal("22.00")),
            OrderItem(name="Linen throw", price=Decimal("38.00")),
        ],
    } | order
    return Account(id="C-1", name="Ann", orders=[Order(**fields)])


@pytest.mark.parametrize(
    ("role", "amount", "allowed", "approvers"),
    [
        ("operator", "50.00", True, ()),
        ("operator", "50.01", False, ("supervisor", "admin")),
        ("supervisor", "499", True, ()),
        ("supervisor", "501", False, ("admin",)),
        ("admin", "5001", False, ()),
        ("intern", "1", False, ("operator", "supervisor", "admin")),  # a role with no limit asks for all
    ],
)
def test_limits_per_role_and_who_may_approve(
    role: str, amount: str, allowed: bool, approvers: tuple[str, ...]
) -> None:
    decided = rules.authority(REFUND, role, Decimal(amount))
    assert (decided.allowed, decided.approver_roles) == (allowed, approvers)


def test_configured_actions_and_their_units() -> None:
    custom = ActionSpec(kind="goodwill_credit", label="Goodwill credit", limits={"operator": Decimal("10")})
    assert rules.spec_for([custom], "goodwill_credit") is custom
    assert rules.describe(Decimal("7.5"), "GBP") == "£7.50"
    assert rules.describe(Decimal("1"), "days") == "1 day"
    assert rules.describe(Decimal("3"), "CHF") == "3.00 CHF"
    assert rules.approver_phrase(("supervisor", "admin")) == "a supervisor or an admin"
    with pytest.raises(InputError, match="unknown action 'refund'; configured: goodwill_credit"):
        rules.spec_for([custom], "refund")


def test_a_request_needs_a_reason_and_a_sane_amount() -> None:
    assert rules.checked_request(REFUND, Decimal("12.5"), "  damaged  ") == (Decimal("12.50"), "damaged")
    with pytest.raises(InputError, match="a reason is required"):
        rules.checked_request(REFUND, Decimal("5"), "ok")
    with pytest.raises(InputError, match="more than zero"):
        rules.checked_request(REFUND, Decimal("-1"), "damaged")
    with pytest.raises(InputError, match="whole number of days"):
        rules.checked_request(rules.spec_for(DEFAULT_ACTIONS, "extend_deadline"), Decimal("1.5"), "holiday")


def test_a_named_damaged_item_suggests_refunding_that_item() -> None:
    texts = ["Hello", "The linen throw arrived torn and faulty! Can you help?"]
    (refund,) = rules.suggest(DEFAULT_ACTIONS, texts, _account(), ["LG-1"])
    assert (refund.kind, refund.order_number, refund.amount) == ("refund", "LG-1", Decimal("38.00"))
    assert refund.evidence == [
        "Visitor: “The linen throw arrived torn and faulty!”",
        "Order LG-1: delivered",
        "Linen throw £38.00 on LG-1",
    ]


def test_fee_and_deadline_suggestions_and_none_without_a_reason() -> None:
    account = _account(fees=[Fee(code="late", label="Late return fee", amount=Decimal("7.50"))])
    found = rules.suggest(
        DEFAULT_ACTIONS, ["Why was I charged a fee?", "I need more time to send it back"], account, []
    )
    assert [(s.kind, s.amount) for s in found] == [
        ("waive_fee", Decimal("7.50")),
        ("extend_deadline", Decimal(rules.EXTENSION_DAYS)),
    ]
    assert found[1].evidence[1] == "Return deadline 2026-12-25"
    assert rules.suggest(DEFAULT_ACTIONS, ["Where is my parcel?"], account, []) == []
    refunded = _account(refunded=Decimal("60.00"))
    assert rules.suggest(DEFAULT_ACTIONS, ["it is broken, refund me"], refunded, []) == []  # nothing left
