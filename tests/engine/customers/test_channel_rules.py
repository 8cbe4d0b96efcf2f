"""The reply-channel rule and phone numbers, as pure functions (``engine.service.channel_rules``)."""

from __future__ import annotations

import pytest

from engine.service.channel_rules import Address, RouteFacts, Unroutable, choose_route, phone_key

EMAIL = Address("email", "dana@example.com")
SMS = Address("sms", "+14155552671")


def facts(conversation: str = "web", last: str | None = "web", present: bool = False,
          **addresses: Address) -> RouteFacts:
    return RouteFacts(conversation_channel=conversation, last_used=last, visitor_present=present,
                      addresses=addresses)


def test_the_reply_goes_back_on_the_channel_the_customer_last_used() -> None:
    route = choose_route(facts(last="sms", email=EMAIL, sms=SMS), by_person=True)
    assert (route.channel, route.to) == ("sms", "+14155552671")
    assert choose_route(facts(last="sms", email=EMAIL, sms=SMS), by_person=False).channel == "sms"
    in_chat = choose_route(facts(last="web", present=True, email=EMAIL, sms=SMS), by_person=True)
    assert (in_chat.channel, in_chat.reason) == ("web", "the visitor is in the chat")


def test_the_operator_may_choose_another_channel_the_customer_has() -> None:
    chosen = choose_route(facts(last="sms", sms=SMS, email=EMAIL), by_person=True, chosen="email")
    assert (chosen.channel, chosen.to, chosen.reason) == ("email", EMAIL.to, "chosen by the operator")
    assert choose_route(facts(last="sms", sms=SMS), by_person=True, chosen="web").channel == "web"
    with pytest.raises(Unroutable, match="no messenger address"):
        choose_route(facts(sms=SMS), by_person=True, chosen="messenger")
    with pytest.raises(Unroutable, match="a sms conversation has no web chat"):
        choose_route(facts(conversation="sms", last="sms", sms=SMS), by_person=True, chosen="web")


def test_a_person_s_reply_to_a_visitor_who_left_goes_by_email_then_sms() -> None:
    assert choose_route(facts(email=EMAIL, sms=SMS), by_person=True).channel == "email"
    away = choose_route(facts(sms=SMS), by_person=True)
    assert (away.channel, away.reason) == ("sms", "the visitor left the chat: by sms")
    assert choose_route(facts(), by_person=True).channel == "web"  # nowhere else: it waits in the widget
    # the bot and the system never mail a visitor who left
    assert choose_route(facts(email=EMAIL, sms=SMS), by_person=False).channel == "web"


def test_a_channel_conversation_never_routes_to_a_widget_it_does_not_have() -> None:
    route = choose_route(facts(conversation="email", last="web", email=EMAIL), by_person=True)
    assert (route.channel, route.to) == ("email", EMAIL.to)
    assert route.reason == "the customer last wrote in a web chat; this conversation is by email"


@pytest.mark.parametrize(("raw", "key"), [
    ("+14155552671", "+14155552671"), ("+1 (415) 555-2671", "+14155552671"),
    ("+44 7911 123456", "+447911123456"), ("+15551234567", "+15551234567"),
    ("12345", None), ("ShopName", None), ("", None)])
def test_phone_numbers_compare_in_e164(raw: str, key: str | None) -> None:
    assert phone_key(raw) == key
