"""Where SMS, email and Messenger messages join the widget's path: find the contact by the channel's
name for them, pick the conversation to continue, then store the message through the conversation
service's visitor turn (``workflow.take``; the webhook then runs ``workflow.answer_later``).

One contact may have several identities (a phone, an email address, a Messenger id); an email
from the address a contact already gave, or a text from their phone, reaches that same contact.
A conversation continues (reopening it if it was resolved) unless it was resolved more than
``channel_reopen_hours`` ago; then a new one starts. Everything for one sender happens under one
lock (``engine.service.locks``), so two texts arriving together never open two conversations.
Every write goes through the service: ``contacts`` (contact and identity), ``deliveries`` (the
provider's id and addresses), the visitor turn.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from engine.channels import media
from engine.channels.base import IncomingMessage, client_id_for
from engine.models import Conversation, State
from engine.service import contacts, conversations, deliveries, workflow
from engine.service.conversations import Accepted
from engine.service.locks import exclusive
from engine.service.runtime import ServiceContext
from knowledge.errors import InputError

TRUNCATED = "\n[message shortened: the rest was longer than this inbox keeps]"


@dataclass
class Inbound:
    """A stored channel message (``accepted.duplicate`` when the provider sent it before), or the
    rating a visitor gave a resolved conversation (``rated``; no message is stored then)."""

    accepted: Accepted | None
    conversation_id: int
    contact_id: int
    rated: int | None = None

    @property
    def new(self) -> bool:
        """A message the bot has yet to answer."""
        return self.accepted is not None and not self.accepted.duplicate


async def receive_incoming(ctx: ServiceContext, incoming: IncomingMessage) -> Inbound:
    """Store ``incoming`` once, in the conversation it belongs to. The caller acknowledges the
    provider as soon as this returns and runs the bot's turn after (``workflow.answer_later``). A
    bare score sent to a resolved conversation answers its "Rate us from 1 to 5" and does not reopen
    it."""
    text = fit(incoming.text, ctx.settings.max_message_chars, files=bool(incoming.files))
    async with exclusive(ctx, f"inbox:{incoming.channel.value}:{incoming.external_id}"):
        channel = incoming.channel.value
        seen = await ctx.read(deliveries.received_before, channel, incoming.client_id)
        if seen is not None:
            conversation = await ctx.read(lambda s: s.get(Conversation, seen.conversation_id))
            return Inbound(Accepted(seen, duplicate=True), seen.conversation_id, conversation.contact_id)
        contact_id = await ctx.act(contacts.ensure_contact, channel, incoming.external_id, name=incoming.name,
                                   email=incoming.email, phone=incoming.phone)
        window = timedelta(hours=ctx.settings.channel_reopen_hours)
        conversation_id = await ctx.read(contacts.conversation_to_continue, contact_id, channel,
                                         incoming.thread, window)
        score = rating(text)
        if conversation_id is not None and score is not None \
                and await ctx.read(lambda s: s.get(Conversation, conversation_id).state == State.resolved):
            await conversations.record_csat(ctx, conversation_id, score, None)
            return Inbound(None, conversation_id, contact_id, rated=score)
        subject = incoming.subject[:200] if incoming.subject else None
        if conversation_id is None:
            conversation, _token = await conversations.start(ctx, contact_id=contact_id, channel=channel,
                                                             subject=subject)
            conversation_id = conversation.id
        elif subject:  # a mail continuing a chat: replies by mail then answer under its subject
            await conversations.adopt_subject(ctx, conversation_id, subject)
        ids, not_kept = await media.store(ctx, conversation_id, incoming.files, uploader=channel)
        text = "\n".join(part for part in (text, *not_kept) if part)
        accepted = await workflow.take(ctx, conversation_id, text,
                                       client_id_for(incoming.channel, incoming.client_id), ids, channel)
        if not accepted.duplicate:
            await ctx.act(deliveries.record_inbound, accepted.message.id, conversation_id, channel,
                          incoming.client_id, incoming.external_id, incoming.local)
    return Inbound(accepted, conversation_id, contact_id)


RATING = re.compile(r"^\s*([1-5])\s*(/\s*5|stars?|\*+)?\s*[.!]*\s*$", re.IGNORECASE)


def rating(text: str) -> int | None:
    """The score in a bare answer to "Rate us from 1 to 5" (``5``, ``4/5``, ``3 stars``)."""
    match = RATING.match(text)
    return int(match.group(1)) if match else None


def fit(text: str, limit: int, *, files: bool = False) -> str:
    """Text the service will take: refused when empty (unless files came with it), shortened (and
    marked) when too long, since a provider cannot resend a shorter one."""
    text = text.strip()
    if not text and not files:
        raise InputError("the message has no text", field="text")
    if len(text) > limit:
        text = text[: limit - len(TRUNCATED)].rstrip() + TRUNCATED
    return text
