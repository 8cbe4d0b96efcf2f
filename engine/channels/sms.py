"""SMS in the shape of Twilio's API: the inbound webhook (form fields ``From``, ``To``, ``Body``,
``MessageSid``, signed with ``X-Twilio-Signature``) and the REST send
(``POST {base}/2010-04-01/Accounts/{sid}/Messages.json`` with basic auth).

Other SMS providers that offer a Twilio-compatible API work by pointing ``sms_provider_url`` at them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable

import httpx

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

SMS_LIMIT = 1600  # Twilio's limit for one message body (sent as several segments)
MAX_MEDIA = 10  # Twilio attaches at most ten media to one message
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """Twilio's request signature: HMAC-SHA1 over the full URL followed by every POST field's
    name and value, sorted by name, base64-encoded."""
    data = url + "".join(name + value for name, value in sorted(params))
    return base64.b64encode(hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def signature_valid(auth_token: str, url: str, params: Iterable[tuple[str, str]], given: str | None) -> bool:
    return given is not None and hmac.compare_digest(signature(auth_token, url, params), given)


def parse(fields: dict[str, str]) -> IncomingMessage:
    """The inbound webhook's form as an :class:`IncomingMessage`; a missing field is named."""
    for name in ("From", "MessageSid"):
        if not fields.get(name, "").strip():
            raise InputError(f"the SMS webhook needs the form field {name!r}", field=name)
    body = fields.get("Body", "")
    media = media_count(fields.get("NumMedia", ""))
    if media and not body.strip():
        body = "\n".join(f"[attachment] {fields.get(f'MediaUrl{i}', '')}".strip() for i in range(media))
    sender = fields["From"].strip()
    return IncomingMessage(channel=Channel.sms, external_id=sender, text=body, client_id=fields["MessageSid"],
                           phone=sender, local=fields.get("To") or None)


def media_count(value: str) -> int:
    """``NumMedia`` as a number from 0 to :data:`MAX_MEDIA` (empty means none); anything else is
    refused rather than trusted, since the count decides how many ``MediaUrl`` fields are read."""
    value = value.strip()
    if not value:
        return 0
    if not (value.isascii() and value.isdigit()) or int(value) > MAX_MEDIA:
        raise InputError(f"NumMedia must be a whole number from 0 to {MAX_MEDIA}, got {value[:20]!r}",
                         field="NumMedia")
    return int(value)


class TwilioTransport:
    """Sends through the Messages resource; a long text goes as several messages."""

    channel = Channel.sms

    def __init__(self, settings: Settings, client: httpx.AsyncClient) -> None:
        self.settings, self.client = settings, client

    async def send(self, message: OutgoingMessage) -> SendResult:
        sid, token = self.settings.sms_account_sid, self.settings.sms_auth_token
        if not sid or not token:
            raise DeliveryError("SMS is not configured: set BATON_SMS_ACCOUNT_SID and BATON_SMS_AUTH_TOKEN",
                                retryable=False)
        sender = message.sender or self.settings.sms_from
        if not sender:
            raise DeliveryError("no number to send SMS from: set BATON_SMS_FROM", retryable=False)
        url = f"{self.settings.sms_provider_url.rstrip('/')}/2010-04-01/Accounts/{sid}/Messages.json"
        provider_id = None
        for part in split_text(message.text, SMS_LIMIT):
            answer = await post_to_provider(self.client, "SMS provider", url, auth=(sid, token),
                                            data={"To": message.to, "From": sender, "Body": part})
            provider_id = provider_id or answer.get("sid")
        return SendResult(provider_id=provider_id)
