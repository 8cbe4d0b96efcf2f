"""Canned replies: placeholders filled from the conversation, clear errors, search."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from engine.models import CannedResponse, CannedResponseCreate, OperatorCreate
from engine.service import canned, conversations
from engine.service.operators import create_canned, create_operator
from engine.service.runtime import ServiceContext
from knowledge.errors import InputError

pytestmark = pytest.mark.anyio


def reply(shortcut: str, title: str, text: str, tags: list[str] | None = None) -> CannedResponse:
    return CannedResponse(shortcut=shortcut, title=title, text=text, tags=tags or [])


@pytest.mark.parametrize(("text", "expected"), [
    ("my order 123456 never came", ["123456"]),
    ("Order no. AB-12345 is late, and so is order #98765", ["AB-12345", "98765"]),
    ("bestellung nr 4455667 fehlt", ["4455667"]),
    ("ref #A1B2C3D4", ["A1B2C3D4"]),
    ("call me on 555 123 4567 tomorrow 2024-05-01", []),
    ("my order is late", []),
])
def test_order_numbers(text: str, expected: list[str]) -> None:
    assert canned.order_numbers([text]) == expected


def test_fill_replaces_every_placeholder_and_keeps_literal_braces() -> None:
    values = {"contact.name": "Ann", "operator.name": "Sam", "order.number": "A-1234", "conversation.id": "7",
              "contact.email": "ann@example.com"}
    text = "Hi {contact.name}, {operator.name} here: order {order.number} ({{ref}} {conversation.id})."
    assert canned.fill(text, values) == "Hi Ann, Sam here: order A-1234 ({ref} 7)."


def test_unknown_placeholder_is_a_clear_error() -> None:
    with pytest.raises(InputError, match=r"unknown placeholder \{name\}; known: \{contact.name\}") as info:
        canned.fill("Hi {name}", {"contact.name": "Ann"})
    assert info.value.field == "name"
    with pytest.raises(InputError, match="malformed placeholder"):
        canned.check("Hi {contact.name")


def test_missing_value_is_a_clear_error() -> None:
    with pytest.raises(InputError, match=r"no value for \{order.number\}"):
        canned.fill("About order {order.number}", {"order.number": None})


def test_search_by_shortcut_prefix_then_title_and_text() -> None:
    items = [reply("refund", "Refund policy", "Refunds take 5 days."),
             reply("ship", "Shipping times", "We ship in 3 days; refund on request."),
             reply("hello", "Greeting", "Hi {contact.name}!")]
    assert [m.canned.shortcut for m in canned.rank(items, "/ref")] == ["refund", "ship"]
    assert [m.canned.shortcut for m in canned.rank(items, "shipping")] == ["ship"]
    assert [m.canned.shortcut for m in canned.rank(items, "")] == ["hello", "refund", "ship"]
    assert canned.rank(items, "warranty") == []


def test_best_match_for_what_the_visitor_said() -> None:
    items = [reply("refund", "Refund status", "Your refund is on its way.", ["refund", "money"]),
             reply("ship", "Late delivery", "Sorry your parcel is late.", ["shipping", "delivery"])]
    assert canned.best_for(items, "where is my refund, I want my money back").canned.shortcut == "refund"
    assert canned.best_for(items, "my delivery is late again").canned.shortcut == "ship"
    assert canned.best_for(items, "good morning") is None


async def test_render_for_a_conversation(ctx: ServiceContext) -> None:
    conversation, _ = await conversations.start(ctx, name="Ann Lee", email="ann@example.com")
    await conversations.accept(ctx, conversation.id, "hi, order #556677 is missing")

    def setup(session: Session, _outbox: object) -> tuple[int, int]:
        op = create_operator(session, OperatorCreate(email="sam@example.com", name="Sam",
                                                     password="correct-horse"))
        item = create_canned(session, CannedResponseCreate(
            shortcut="late", title="Late order", text="Hi {contact.name}, {operator.name} here. "
                                                     "Order {order.number} ships today."))
        return op.id, item.id

    operator_id, canned_id = await ctx.act(setup)
    text = await ctx.read(canned.render, canned_id, conversation.id, operator_id)
    assert text == "Hi Ann Lee, Sam here. Order 556677 ships today."


async def test_saving_a_reply_with_an_unknown_placeholder_is_refused(ctx: ServiceContext) -> None:
    def save(session: Session, _outbox: object) -> CannedResponse:
        return create_canned(session, CannedResponseCreate(shortcut="hi", title="Hi", text="Hi {name}"))

    with pytest.raises(InputError, match=r"unknown placeholder \{name\}"):
        await ctx.act(save)
    assert await ctx.read(lambda session: session.exec(select(CannedResponse)).all()) == []
