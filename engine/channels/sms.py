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
from urllib.parse import urlsplit

import httpx

from engine.channels.base import (
    DeliveryError,
    InboundFile,
    IncomingMessage,
    OutgoingFile,
    OutgoingMessage,
    SendResult,
    post_to_provider,
    split_text,
)
from engine.models import Channel
from engine.service.confirmation import Undeliverable
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


def parse(fields: dict[str, str], settings: Settings | None = None) -> IncomingMessage:
    """The inbound webhook's form as an :class:`IncomingMessage`; a missing field is named. An MMS's
    media (``NumMedia``, ``MediaUrlN``, ``MediaContentTypeN``) come as files to fetch with the
    account's credentials, kept with the text (``engine.channels.media``)."""
    for name in ("From", "MessageSid"):
        if not fields.get(name, "").strip():
            raise InputError(f"the SMS webhook needs the form field {name!r}", field=name)
    body = fields.get("Body", "")
    files = tuple(media_file(fields, index, settings)
                  for index in range(media_count(fields.get("NumMedia", ""))))
    sender = fields["From"].strip()
    return IncomingMessage(channel=Channel.sms, external_id=sender, text=body, client_id=fields["MessageSid"],
                           phone=sender, local=fields.get("To") or None, files=files)


MEDIA_HOSTS = ("twilio.com", "twiliocdn.com")  # where Twilio's media links point (and redirect)


def media_file(fields: dict[str, str], index: int, settings: Settings | None) -> InboundFile:
    """``MediaUrl<index>`` as a file to fetch. Only a link to the provider itself is fetched, with its
    credentials (a webhook in development is unsigned: it must not make the server fetch, or send the
    account's password to, an address of the caller's choosing); any other link is named, not fetched."""
    url = fields.get(f"MediaUrl{index}", "").strip()
    if not url:
        raise InputError(f"NumMedia counts a file {index} but MediaUrl{index} is missing",
                         field=f"MediaUrl{index}")
    kind = fields.get(f"MediaContentType{index}") or None
    ours = settings is not None and provider_link(url, settings.sms_provider_url)
    if not ours:
        return InboundFile(url=None, filename=url, content_type=kind)
    auth = (settings.sms_account_sid, settings.sms_auth_token) if settings.sms_account_sid else None
    return InboundFile(url=url, content_type=kind, auth=auth)


def provider_link(url: str, provider_url: str) -> bool:
    """``url`` is on the provider's own host (its API host, or one of :data:`MEDIA_HOSTS`)."""
    host, ours = urlsplit(url).hostname or "", urlsplit(provider_url).hostname or ""
    return host == ours or any(host == name or host.endswith("." + name) for name in MEDIA_HOSTS)


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


def configured(settings: Settings) -> bool:
    """Whether the server can text a number nobody texted us from (a confirmation code): the
    account, and ``sms_from``, the number such a text comes from."""
    return bool(settings.sms_account_sid and settings.sms_auth_token and settings.sms_from)


class TwilioTransport:
    """Sends through the Messages resource; a long text goes as several messages."""

    channel = Channel.sms

    def __init__(self, settings: Settings, client: httpx.AsyncClient) -> None:
        self.settings, self.client = settings, client

    async def send(self, message: OutgoingMessage) -> SendResult:
        media, links = mms_split(message.files)
        text = "\n\n".join(part for part in (message.text, *(f.link_line() for f in links)) if part)
        return SendResult(provider_id=await self._post(message.to, message.sender, text, media))

    async def send_notice(self, to: str, subject: str, text: str) -> str:
        """One SMS of our own from ``sms_from`` (a phone confirmation code, not a reply in a
        conversation; ``subject`` is a mail's, SMS has none); returns the provider's id.
        Undeliverable (503) when SMS is not configured or the provider does not take it: the caller
        is a request waiting for the answer, not the retrying outbound dispatcher."""
        try:
            provider_id = await self._post(to, None, text, [])
        except DeliveryError as exc:
            raise Undeliverable(f"the SMS could not be sent ({exc}); try again later") from exc
        return provider_id or ""

    async def _post(self, to: str, sender: str | None, text: str, media: list[OutgoingFile]) -> str | None:
        """Post ``text`` to the Messages resource (several messages when it is long, the pictures
        with the last); the provider's id of the first."""
        sid, token = self.settings.sms_account_sid, self.settings.sms_auth_token
        if not sid or not token:
            raise DeliveryError("SMS is not configured: set BATON_SMS_ACCOUNT_SID and BATON_SMS_AUTH_TOKEN",
                                retryable=False)
        sender = sender or self.settings.sms_from
        if not sender:
            raise DeliveryError("no number to send SMS from: set BATON_SMS_FROM", retryable=False)
        url = f"{self.settings.sms_provider_url.rstrip('/')}/2010-04-01/Accounts/{sid}/Messages.json"
        parts = split_text(text, SMS_LIMIT) or [""]
        provider_id = None
        for number, part in enumerate(parts, start=1):
            data: dict[str, str | list[str]] = {"To": to, "From": sender, "Body": part}
            if number == len(parts) and media:  # the pictures go with the last part
                data["MediaUrl"] = [file.link() for file in media]
            answer = await post_to_provider(self.client, "SMS provider", url, auth=(sid, token), data=data)
            provider_id = provider_id or answer.get("sid")
        return provider_id


MMS_TYPES = ("image/jpeg", "image/png", "image/gif")  # what MMS shows on every phone
MMS_BYTES = 5 * 1024 * 1024  # Twilio's limit for the media of one message


def mms_split(files: tuple[OutgoingFile, ...]) -> tuple[list[OutgoingFile], list[OutgoingFile]]:
    """The files MMS carries (pictures, up to :data:`MAX_MEDIA` and :data:`MMS_BYTES` together), and
    those it cannot, which go as signed links in the text."""
    media: list[OutgoingFile] = []
    links: list[OutgoingFile] = []
    total = 0
    for file in files:
        fits = file.content_type in MMS_TYPES and len(media) < MAX_MEDIA and total + file.size <= MMS_BYTES
        (media if fits else links).append(file)
        total += file.size if fits else 0
    return media, links
