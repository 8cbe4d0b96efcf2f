"""Messenger in the shape of the Graph platform: the webhook's subscription check (``hub.mode``,
``hub.verify_token``, ``hub.challenge``), its signed events (``X-Hub-Signature-256``: HMAC-SHA256
of the raw body over the app secret; ``entry[].messaging[]``) and the Send API
(``POST {base}/me/messages?access_token=...``).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from engine.channels.base import (
    DeliveryError,
    IncomingMessage,
    OutgoingMessage,
    SendResult,
    post_to_provider,
    split_text,
)
from engine.models import Channel
from engine.settings import Settings
from knowledge.errors import InputError

TEXT_LIMIT = 2000  # the Send API's limit for one text message
QUICK_REPLY_LIMIT = 20  # characters of a quick reply's title


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Party(_Loose):
    id: str


class Attachment(_Loose):
    type: str = "file"
    payload: dict[str, Any] | None = None

    def describe(self) -> str:
        """An attachment as a line of text (the inbox stores text; the link stays reachable)."""
        return f"[{self.type} attachment] {(self.payload or {}).get('url', '')}".strip()


class Content(_Loose):
    mid: str
    text: str | None = None
    is_echo: bool = False
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


def parse(body: bytes) -> list[IncomingMessage]:
    """The visitor messages of one notification; echoes of our own sends, deliveries and reads are
    not messages and are left out."""
    try:
        notification = Notification.model_validate_json(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InputError(f"the Messenger notification is malformed at {where}: {first['msg']}",
                         field=where) from exc
    if notification.object != "page":
        raise InputError(f"object is {notification.object!r}; this webhook takes 'page' notifications",
                         field="object")
    found = []
    for entry in notification.entry:
        for event in entry.messaging:
            content = event.message
            if content is None or content.is_echo:
                continue
            text = content.text or "\n".join(a.describe() for a in content.attachments)
            found.append(IncomingMessage(channel=Channel.messenger, external_id=event.sender.id, text=text,
                                         client_id=content.mid,
                                         local=event.recipient.id if event.recipient else entry.id))
    return found


class MessengerTransport:
    """Sends text (in parts of the API's limit) with the message's quick replies on the last part."""

    channel = Channel.messenger

    def __init__(self, settings: Settings, client: httpx.AsyncClient) -> None:
        self.settings, self.client = settings, client

    async def send(self, message: OutgoingMessage) -> SendResult:
        token = self.settings.messenger_page_token
        if not token:
            raise DeliveryError("Messenger is not configured: set BATON_MESSENGER_PAGE_TOKEN",
                                retryable=False)
        url = f"{self.settings.messenger_api_url.rstrip('/')}/me/messages"
        parts = split_text(message.text, TEXT_LIMIT)
        provider_id = None
        for number, part in enumerate(parts, start=1):
            content: dict[str, Any] = {"text": part}
            if number == len(parts) and message.quick_replies:
                content["quick_replies"] = [
                    {"content_type": "text", "title": title[:QUICK_REPLY_LIMIT], "payload": title}
                    for title in message.quick_replies]
            answer = await post_to_provider(
                self.client, "Messenger", url, params={"access_token": token},
                json={"recipient": {"id": message.to}, "messaging_type": "RESPONSE", "message": content})
            provider_id = provider_id or answer.get("message_id")
        return SendResult(provider_id=provider_id)
