"""The outbound dispatcher: bot, operator and system messages of SMS, email and Messenger
conversations go back out through the channel they came from. Internal notes never do: they are
published on the internal stream, which the dispatcher never subscribes to, and the store queries
below take public messages only.

The store is the queue (``engine.service.deliveries`` makes every write: the claim, the failure
with its next attempt, the send that sets ``Message.delivered_at`` and publishes
``message.delivered``). A message is sent once a ``ChannelDelivery`` row claims it (the row is
unique per message, and each attempt is a lease, so of several workers one sends); a failure is
retried, backing off, until ``delivery_attempts`` are spent and the row is marked failed with its
error. The bus makes delivery prompt: the dispatcher follows the streams of the
channel conversations it knows of (the inbox tells it of new ones, ``operators`` of state changes
elsewhere); a periodic sweep picks up whatever it missed: other workers' messages, a restart, a
lease that ran out.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from datetime import timedelta

import httpx
from sqlmodel import Session, col, select

from engine.bus import OPERATORS, WORKERS, Subscription, conversation_stream
from engine.channels import email, media, messenger, sms
from engine.channels.base import DeliveryError, OutgoingMessage, SendResult, Transport
from engine.events import ConversationChanged, DeliveryQueued, Event, MessageCreated
from engine.models import (
    Channel,
    ChannelDelivery,
    Contact,
    ContactIdentity,
    Conversation,
    DeliveryStatus,
    Direction,
    Message,
    Role,
    State,
    Visibility,
    utcnow,
)
from engine.service import reply_routes
from engine.service.conversations import TALK_TO_PERSON
from engine.service.deliveries import (
    CHANNELS,
    OUTGOING_ROLES,
    channel_of,
    claim,
    due_messages,
    open_channel_conversations,
    record_failure,
    record_sent,
)
from engine.service.runtime import ServiceContext
from engine.settings import Settings

log = logging.getLogger(__name__)

REFERENCES_KEPT = 20
FORGET_RESOLVED_SECONDS = 120.0  # keep following a resolved conversation for its closing notice
QUICK_REPLY_CHANNELS = (Channel.messenger, Channel.instagram)  # an offer of a person is a button there


def transports_from_settings(settings: Settings, client: httpx.AsyncClient) -> dict[Channel, Transport]:
    return {Channel.sms: sms.TwilioTransport(settings, client),
            Channel.messenger: messenger.MessengerTransport(settings, client),
            Channel.instagram: messenger.MessengerTransport(settings, client, Channel.instagram),
            Channel.email: email.SmtpTransport(settings)}


class OutboundDispatcher:
    """Run :meth:`run` as a task for the life of the app; :meth:`watch` a conversation to have its
    replies sent the moment they are stored."""

    def __init__(self, ctx: ServiceContext, transports: dict[Channel, Transport],
                 client: httpx.AsyncClient | None = None) -> None:
        self.ctx, self.transports, self._client = ctx, transports, client
        self._watched: set[int] = set()
        self._channels: dict[int, str] = {}
        self._inflight: set[int] = set()
        self._forgetting: dict[int, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._subscription: Subscription | None = None

    @classmethod
    def from_settings(cls, ctx: ServiceContext) -> OutboundDispatcher:
        """The real transports, sharing one HTTP client that :meth:`run` closes when it ends."""
        client = httpx.AsyncClient(timeout=ctx.settings.delivery_timeout_seconds)
        return cls(ctx, transports_from_settings(ctx.settings, client), client)

    def watch(self, conversation_id: int) -> None:
        self._watched.add(conversation_id)
        if self._subscription is not None:
            self._subscription.add(conversation_stream(conversation_id))

    def forget(self, conversation_id: int) -> None:
        self._forgetting.pop(conversation_id, None)
        self._watched.discard(conversation_id)
        if self._subscription is not None:
            self._subscription.remove(conversation_stream(conversation_id))

    async def run(self) -> None:
        loaded = False
        try:
            while True:
                try:
                    if not loaded:
                        self._watched.update(await self.ctx.read(open_channel_conversations))
                        loaded = True
                    self._subscribe()
                    await self._follow()
                except Exception:  # the store or the bus failing must not stop delivery for good
                    pause = self.ctx.settings.delivery_sweep_seconds
                    log.exception("the outbound dispatcher failed; it starts over in %gs", pause)
                    await asyncio.sleep(pause)
        finally:
            if self._subscription is not None:
                self._subscription.close()
            for handle in self._forgetting.values():
                handle.cancel()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            if self._client is not None:
                await self._client.aclose()

    def _subscribe(self) -> None:
        if self._subscription is not None:
            self._subscription.close()
        streams = [OPERATORS, WORKERS, *(conversation_stream(c) for c in self._watched)]
        self._subscription = self.ctx.bus.subscribe(*streams)

    async def _follow(self) -> None:
        """Sweep, then handle events until the next sweep is due; returns when the subscription was
        closed (fallen behind, or the bus lost its connection) so that :meth:`run` makes a new one."""
        assert self._subscription is not None
        loop = asyncio.get_running_loop()
        while True:
            await self.sweep()
            deadline = loop.time() + self.ctx.settings.delivery_sweep_seconds
            while (left := deadline - loop.time()) > 0:
                try:  # asyncio.timeout, not wait_for: on 3.11 wait_for returns an event that came
                    # with a cancel and swallows the cancel, so the dispatcher never stopped
                    async with asyncio.timeout(left):
                        _stream, event = await self._subscription.get()
                except TimeoutError:
                    break
                except ConnectionResetError:
                    return
                await self._handle(event)

    async def _handle(self, event: Event) -> None:
        if isinstance(event, DeliveryQueued):  # routed to a channel from a conversation not followed
            self.schedule(event.message_id)
        elif isinstance(event, MessageCreated):
            message = event.message
            if (event.conversation_id in self._watched and message.visibility == Visibility.public
                    and message.role in OUTGOING_ROLES):
                self.schedule(message.id)
        elif isinstance(event, ConversationChanged):
            conversation_id = event.conversation_id
            if conversation_id not in self._channels:
                if len(self._channels) > 50_000:
                    self._channels.clear()
                self._channels[conversation_id] = await self.ctx.read(channel_of, conversation_id)
            if self._channels[conversation_id] not in CHANNELS:
                return
            pending = self._forgetting.pop(conversation_id, None)
            if pending is not None:
                pending.cancel()
            if event.state == State.resolved:
                self._forgetting[conversation_id] = asyncio.get_running_loop().call_later(
                    FORGET_RESOLVED_SECONDS, self.forget, conversation_id)
            elif conversation_id not in self._watched:
                self.watch(conversation_id)
                await self.sweep(conversation_id)  # what it stored before we followed it

    async def sweep(self, conversation_id: int | None = None) -> None:
        for message_id in await self.ctx.read(due_messages, utcnow(), conversation_id):
            self.schedule(message_id)

    def schedule(self, message_id: int) -> None:
        if message_id in self._inflight:
            return
        self._inflight.add(message_id)
        task = asyncio.create_task(self._deliver(message_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, message_id: int) -> None:
        """Claim, send, record; again after a backoff while the failure is worth retrying."""
        settings = self.ctx.settings
        lease = timedelta(seconds=settings.delivery_timeout_seconds * 2 + 5)
        try:
            await self._attempts(message_id, lease)
        except Exception:  # the claim's lease runs out and a sweep tries again
            log.exception("delivery of message %s stopped on an error; it is retried later", message_id)
        finally:
            self._inflight.discard(message_id)

    async def _attempts(self, message_id: int, lease: timedelta) -> None:
        settings = self.ctx.settings
        while True:
            attempt = await self.ctx.act(claim, message_id, lease)
            if attempt is None:
                return  # sent, given up, or another worker holds it
            try:
                result = await self._send_once(message_id)
            except DeliveryError as exc:
                final = not exc.retryable or attempt >= settings.delivery_attempts
                delay = settings.delivery_backoff_seconds * 2 ** (attempt - 1)
                await self.ctx.act(record_failure, message_id, f"attempt {attempt}: {exc}",
                                   None if final else timedelta(seconds=delay))
                log.warning("delivery of message %s failed (attempt %s, %s): %s", message_id, attempt,
                            "giving up" if final else f"retrying in {delay:g}s", exc)
                if final:
                    return
                await asyncio.sleep(delay)
                continue
            await self.ctx.act(record_sent, message_id, result.provider_id)
            return

    async def _send_once(self, message_id: int) -> SendResult:
        outgoing = await self.ctx.read(outgoing_for, message_id)
        files = await media.outgoing_files(self.ctx, message_id, outgoing.channel)  # links, or bytes
        outgoing = dataclasses.replace(outgoing, files=files) if files else outgoing
        transport = self.transports.get(outgoing.channel)
        if transport is None:
            raise DeliveryError(f"no transport for channel {outgoing.channel}", retryable=False)
        try:
            async with asyncio.timeout(self.ctx.settings.delivery_timeout_seconds):  # as in _follow
                return await transport.send(outgoing)
        except TimeoutError as exc:
            raise DeliveryError(f"{outgoing.channel} send timed out", retryable=True) from exc
        except DeliveryError:
            raise
        except Exception as exc:  # a transport bug must not lose the message: record and retry it
            log.exception("transport %s failed unexpectedly", outgoing.channel)
            raise DeliveryError(f"{type(exc).__name__}: {exc}", retryable=True) from exc


# --- store work (in a worker thread) --------------------------------------------------------------

def outgoing_for(session: Session, message_id: int) -> OutgoingMessage:
    """The message as its channel sends it: on the channel and to the address its delivery was
    routed to when it was stored (``deliveries.route``: where the customer last wrote, or the
    operator's choice), else the conversation's own; from our address they wrote to, with the email
    thread's headers (the mail answered, and every mail of the thread) and the bot's source link."""
    message = session.get(Message, message_id)
    conversation = session.get(Conversation, message.conversation_id)
    row = session.exec(select(ChannelDelivery).where(ChannelDelivery.message_id == message.id,
                                                     ChannelDelivery.direction == Direction.outbound)).first()
    routed = row is not None and row.remote is not None
    channel = Channel(row.channel if routed else conversation.channel)
    last_in = reply_routes.sender_on(session, conversation, channel.value)
    to = row.remote if routed else last_in.remote if last_in else address_of(session, conversation.contact_id,
                                                                               channel)
    if not to:
        raise DeliveryError(f"contact {conversation.contact_id} has no {channel} address to reply to",
                            retryable=False)
    sender = (row.local if routed else None) or (last_in.local if last_in else None)
    references: tuple[str, ...] = ()
    thread = {conversation.id, last_in.conversation_id if last_in else conversation.id}
    if channel == Channel.email:
        references = tuple(session.exec(select(ChannelDelivery.provider_id).where(
            col(ChannelDelivery.conversation_id).in_(thread), ChannelDelivery.channel == Channel.email,
            col(ChannelDelivery.provider_id).is_not(None),
            col(ChannelDelivery.status).in_((DeliveryStatus.received, DeliveryStatus.sent)))
            .order_by(col(ChannelDelivery.id))).all())[-REFERENCES_KEPT:]
    subject = conversation.subject
    if subject is None and last_in is not None and last_in.conversation_id != conversation.id:
        subject = session.get(Conversation, last_in.conversation_id).subject
    return OutgoingMessage(channel=channel, message_id=message.id, conversation_id=conversation.id, to=to,
                           text=render(message, channel), sender=sender, subject=subject,
                           in_reply_to=last_in.provider_id if last_in and channel == Channel.email else None,
                           references=references, quick_replies=tuple(message.quick_replies),
                           automatic=message.role != Role.operator)


def address_of(session: Session, contact_id: int, channel: Channel) -> str | None:
    """The contact's address on ``channel`` when the conversation began elsewhere than a webhook."""
    identity = session.exec(select(ContactIdentity.external_id).where(
        ContactIdentity.contact_id == contact_id, ContactIdentity.channel == channel.value)
        .order_by(col(ContactIdentity.id).desc())).first()
    if identity:
        return identity
    contact = session.get(Contact, contact_id)
    if contact is None:
        return None
    return {Channel.sms: contact.phone, Channel.email: contact.email}.get(channel)


def render(message: Message, channel: Channel) -> str:
    """Text channels have no buttons or citation cards: the first source becomes a link, and an
    offer of a person says how to accept it (Messenger and Instagram show it as a quick reply instead)."""
    text = message.text
    url = next((c.get("url") for c in message.citations if c.get("url")), None)
    if url and url not in text:
        text += f"\n\nMore: {url}"
    if TALK_TO_PERSON in message.quick_replies and channel not in QUICK_REPLY_CHANNELS:
        text += f'\n\nReply "{TALK_TO_PERSON}" to reach someone from our team.'
    return text
