"""Pure rules of one thread per customer: which phone numbers are the same, and which channel a
message to the customer leaves on. No store, no other service module: ``reply_routes`` gathers the
facts, ``deliveries`` records the decision, ``contacts`` compares numbers with :func:`phone_key`.

:func:`choose_route` is the one place the reply channel is decided (docs/channels.md, "Which
channel a reply leaves on"):

1. The operator chose a channel: that one, if the customer has an address there (web: only in a web
   chat, whose widget is the address). Otherwise :class:`Unroutable` says what is missing.
2. The customer last wrote on an outside channel (SMS, email, Messenger, Instagram): back there, to
   the address they wrote from. This holds for the bot's and the system's messages too, which
   answer the message that came in.
3. The customer last wrote in the web chat: the widget, while it is open. A reply a *person* wrote
   to a visitor who has left it (no live socket on any worker) goes by email, else by SMS, to an
   address the customer wrote from or proved (an email or a phone confirmed by the code sent to it,
   ``engine.service.confirmation``), never to one they only typed. It still shows in the
   widget when they come back. With no address it waits in the widget. The bot's and the system's
   messages never leave the chat this way: only what a person wrote is worth a mail or a text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import phonenumbers

WEB = "web"
AWAY_FALLBACK = ("email", "sms")  # a person's reply to a visitor who left the chat, in this order


def phone_key(raw: str) -> str | None:
    """``raw`` as an E.164 number (``+14155552671``), or None when it is not one (a short code, an
    alphanumeric sender, a typo). A number a carrier delivered from exists, so it only has to be a
    possible number of its country (``is_valid_number`` would also refuse the 555 test ranges)."""
    try:
        number = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@dataclass(frozen=True)
class Address:
    """Where the customer can be reached on one outside channel: an address they wrote from or
    proved they own."""

    channel: str
    to: str


@dataclass(frozen=True)
class RouteFacts:
    conversation_channel: str  # the channel the conversation began on; web: it has a widget
    last_used: str | None  # the channel of the customer's latest message (None: they never wrote)
    visitor_present: bool  # web: the widget is open on some worker now
    addresses: Mapping[str, Address]  # the best address per outside channel


@dataclass(frozen=True)
class Route:
    channel: str
    to: str | None  # None for the widget
    reason: str


class Unroutable(ValueError):
    """The operator chose a channel the customer cannot be reached on."""


def choose_route(facts: RouteFacts, *, by_person: bool, chosen: str | None = None) -> Route:
    """The channel and address a message to the customer leaves on (the module's rules, in order)."""
    has_widget = facts.conversation_channel == WEB
    if chosen is not None:
        if chosen == WEB:
            if not has_widget:
                raise Unroutable(f"a {facts.conversation_channel} conversation has no web chat to reply in")
            return Route(WEB, None, "chosen by the operator")
        address = facts.addresses.get(chosen)
        if address is None:
            raise Unroutable(f"the customer has no {chosen} address to reply to")
        return Route(chosen, address.to, "chosen by the operator")
    last = facts.last_used or facts.conversation_channel
    if last != WEB or not has_widget:
        for channel in (last, facts.conversation_channel):
            address = facts.addresses.get(channel)
            if address is not None:
                why = f"the customer last wrote by {last}" if channel == last else \
                    f"the customer last wrote in a web chat; this conversation is by {channel}"
                return Route(channel, address.to, why)
        if not has_widget:  # nothing to reply to: the dispatcher records why (no address)
            return Route(facts.conversation_channel, None, "the customer has no address on this channel")
    if facts.visitor_present or not by_person:
        return Route(WEB, None, "the visitor is in the chat" if facts.visitor_present
                     else "the customer last wrote in the chat")
    for channel in AWAY_FALLBACK:
        address = facts.addresses.get(channel)
        if address is not None:
            return Route(channel, address.to, f"the visitor left the chat: by {channel}")
    return Route(WEB, None, "the visitor left the chat and has no confirmed email or phone: "
                 "it waits in the widget")
