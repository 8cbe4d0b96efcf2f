"""Messenger and Instagram direct messages in the shape of the Graph platform: the webhook's
subscription check (``hub.mode``, ``hub.verify_token``, ``hub.challenge``), its signed events
(``X-Hub-Signature-256``: HMAC-SHA256 of the raw body over the app secret; ``entry[].messaging[]``)
and the Send API (``POST {base}/me/messages?access_token=...``).

Instagram's messaging is the same platform: the same app (so the same secret signs both), events of
the same shape under ``"object": "instagram"`` (the sender is an Instagram-scoped id), replies through
the same Send API with the token of the Page the Instagram account is linked to. Only the text limit
differs (1000 bytes of UTF-8 instead of 2000 characters). The ``object`` of a notification says which
channel its messages belong to.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from engine.channels.base import (
    DeliveryError,
    InboundFile,
    IncomingMessage,
    OutgoingMessage,
    SendResult,
    post_to_provider,
    split_text,
)
from engine.models import Channel
from engine.settings import Settings
from knowledge.errors import InputError

TEXT_LIMIT = 2000  # the Send API's limit for one Messenger text message
INSTAGRAM_BYTES = 1000  # Instagram's limit for one text message, in bytes of UTF-8
QUICK_REPLY_LIMIT = 20  # characters of a quick reply's title
MEDIA_HOSTS = ("fbcdn.net", "fbsbx.com", "cdninstagram.com")  # where the platform's attachment links point
# attachment types the Send API takes by link; Instagram shows no documents, so those go as a link in text
SEND_TYPES = {Channel.messenger: ("image", "video", "audio", "file"),
              Channel.instagram: ("image", "video", "audio")}
# a notification's ``object`` -> the channel of its messages
OBJECTS = {"page": Channel.messenger, "instagram": Channel.instagram}


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Party(_Loose):
    id: str


class Attachment(_Loose):
    type: str = "file"
    payload: dict[str, Any] | None = None

    def file(self, settings: Settings | None) -> InboundFile:
        """The attachment as a file to fetch, when its link is the platform's own (its CDN, or the
        configured API host); any other link is named and not followed (an unsigned webhook in
        development must not make the server fetch an address of the caller's choosing)."""
        url = str((self.payload or {}).get("url") or "")
        host = urlsplit(url).hostname or ""
        ours = settings is not None and (host == urlsplit(settings.messenger_api_url).hostname or any(
            host == name or host.endswith("." + name) for name in MEDIA_HOSTS))
        return InboundFile(url=url, filename=None) if ours else InboundFile(filename=url or f"a {self.type}")


class Content(_Loose):
    mid: str
    text: str | None = None
    is_echo: bool = False
    is_deleted: bool = False  # Instagram: the visitor unsent a message; nothing to answer
    attachments: list[Attachment] = []


class Messaging(_Loose):
    sender: Party
    recipient: Party | None = None
    message: Content | None = None  # absent for deliveries, reads and postbacks


class Entry(_Loose):
    id: str | None = None
    messaging: list[Messaging] = []


class Notification(_Loose):
    object: str
    entry: list[Entry] = Field(default_factory=list)


def signature_valid(app_secret: str, body: bytes, given: str | None) -> bool:
    """``given`` is the header's ``sha256=<hex>``."""
    if not given or not given.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, given.removeprefix("sha256="))


def parse(body: bytes, settings: Settings | None = None) -> list[IncomingMessage]:
    """The visitor messages of one Messenger (``object: page``) or Instagram (``object: instagram``)
    notification; echoes of our own sends, unsent messages, deliveries, reads and reactions are not
    messages and are left out."""
    try:
        notification = Notification.model_validate_json(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InputError(f"the Messenger notification is malformed at {where}: {first['msg']}",
                         field=where) from exc
    channel = OBJECTS.get(notification.object)
    if channel is None:
        raise InputError(f"object is {notification.object!r}; this webhook takes 'page' (Messenger) and "
                         "'instagram' notifications", field="object")
    found = []
    for entry in notification.entry:
        for event in entry.messaging:
            content = event.message
            if content is None or content.is_echo or content.is_deleted:
                continue
            text = content.text or ""
            files = tuple(a.file(settings) for a in content.attachments if a.type != "fallback")
            found.append(IncomingMessage(channel=channel, external_id=event.sender.id, text=text,
                                         client_id=content.mid, files=files,
                                         local=event.recipient.id if event.recipient else entry.id))
    return found


def split_bytes(text: str, limit: int) -> list[str]:
    """``text`` in parts of at most ``limit`` bytes of UTF-8 (Instagram counts bytes), each cut where
    :func:`split_text` would cut within the characters that fit."""
    parts: list[str] = []
    rest = text.strip()
    while rest:
        chars = limit
        while (size := len(rest[:chars].encode())) > limit:  # wide characters: fewer of them fit
            chars = max(1, min(chars - 1, chars * limit // size))
        head = split_text(rest, chars)[0]
        parts.append(head)
        rest = rest[len(head):].lstrip()
    return parts


class MessengerTransport:
    """Sends text (in parts of the API's limit) with the message's quick replies on the last part;
    one instance per channel (``Channel.messenger`` or ``Channel.instagram``)."""

    def __init__(self, settings: Settings, client: httpx.AsyncClient,
                 channel: Channel = Channel.messenger) -> None:
        self.settings, self.client, self.channel = settings, client, channel

    def _token(self) -> str:
        if self.channel == Channel.instagram:
            token = self.settings.instagram_page_token or self.settings.messenger_page_token
            if not token:
                raise DeliveryError("Instagram is not configured: set BATON_INSTAGRAM_PAGE_TOKEN (or "
                                    "BATON_MESSENGER_PAGE_TOKEN for the Page it is linked to)",
                                    retryable=False)
            return token
        if not self.settings.messenger_page_token:
            raise DeliveryError("Messenger is not configured: set BATON_MESSENGER_PAGE_TOKEN",
                                retryable=False)
        return self.settings.messenger_page_token

    async def send(self, message: OutgoingMessage) -> SendResult:
        token = self._token()
        url = f"{self.settings.messenger_api_url.rstrip('/')}/me/messages"
        kinds = SEND_TYPES[self.channel]
        sendable = [f for f in message.files if attachment_type(f.category) in kinds]
        text = "\n\n".join([message.text, *(f.link_line() for f in message.files if f not in sendable)])
        parts = (split_bytes(text, INSTAGRAM_BYTES) if self.channel == Channel.instagram
                 else split_text(text, TEXT_LIMIT))
        provider = "Instagram" if self.channel == Channel.instagram else "Messenger"
        provider_id = None
        for number, part in enumerate(parts, start=1):
            content: dict[str, Any] = {"text": part}
            if number == len(parts) and message.quick_replies:
                content["quick_replies"] = [
                    {"content_type": "text", "title": title[:QUICK_REPLY_LIMIT], "payload": title}
                    for title in message.quick_replies]
            answer = await post_to_provider(
                self.client, provider, url, params={"access_token": token},
                json={"recipient": {"id": message.to}, "messaging_type": "RESPONSE", "message": content})
            provider_id = provider_id or answer.get("message_id")
        for file in sendable:  # one attachment a message; the platform fetches it from its signed link
            attachment = {"type": attachment_type(file.category),
                          "payload": {"url": file.link(), "is_reusable": False}}
            answer = await post_to_provider(
                self.client, provider, url, params={"access_token": token},
                json={"recipient": {"id": message.to}, "messaging_type": "RESPONSE",
                      "message": {"attachment": attachment}})
            provider_id = provider_id or answer.get("message_id")
        return SendResult(provider_id=provider_id)


def attachment_type(category: str) -> str:
    """The Send API's attachment type for one of our file categories."""
    return category if category in ("image", "video", "audio") else "file"
