"""What every channel adapter shares: the message that comes in, the message that goes out, and the
``Transport`` each outside provider hides behind (with an in-memory fake that is the test seam).

Inbound, an adapter parses its provider's webhook into :class:`IncomingMessage` and hands it to
``engine.channels.inbox``; outbound, ``engine.channels.outbound`` turns a stored bot, operator or
system message into :class:`OutgoingMessage` and gives it to the conversation's channel transport.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from engine.models import Channel

CLIENT_ID_LIMIT = 64  # Message.client_id's column width


@dataclass(frozen=True)
class InboundFile:
    """One file of an incoming message: a ``url`` to fetch (with ``auth`` when the provider wants
    it), or the ``data`` itself. ``content_type`` is what the provider said, and is not trusted."""

    url: str | None = None
    filename: str | None = None
    content_type: str | None = None
    data: bytes | None = None
    auth: tuple[str, str] | None = None

    @property
    def name(self) -> str:
        if self.filename:
            return self.filename
        tail = (self.url or "").split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        return tail or "file"


@dataclass(frozen=True)
class IncomingMessage:
    """One visitor message from an outside channel, whatever the provider's shape.

    ``external_id`` is how the channel names the visitor (a phone number, a page-scoped id, an email
    address); ``client_id`` is the provider's id of this message, which makes redelivery harmless;
    ``local`` is our address the visitor wrote to (the number texted, the page, the support mailbox).
    """

    channel: Channel
    external_id: str
    text: str
    client_id: str
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    local: str | None = None
    subject: str | None = None
    thread: tuple[str, ...] = ()  # email: the Message-IDs this one answers (In-Reply-To, References)
    files: tuple[InboundFile, ...] = ()  # MMS media, Messenger attachments, email attachments


@dataclass(frozen=True)
class OutgoingFile:
    """A file sent on an outgoing message: a signed ``url`` that expires (None when ``public_url`` is
    not set) for channels that fetch files, its ``data`` for those that carry them (email)."""

    filename: str
    content_type: str
    category: str
    size: int
    url: str | None = None
    data: bytes | None = None

    def link(self) -> str:
        """The signed link; a channel that needs one cannot send the file without ``public_url``."""
        if self.url is None:
            raise DeliveryError("a file cannot be sent on this channel without a link to it: set "
                                "BATON_PUBLIC_URL (the address providers and visitors reach this server at)",
                                retryable=False)
        return self.url

    def link_line(self) -> str:
        """The file as a line of text, for a channel that cannot carry it."""
        return f"{self.filename}: {self.link()}"


@dataclass(frozen=True)
class OutgoingMessage:
    """A stored message on its way out. ``to`` is the visitor's address on the channel."""

    channel: Channel
    message_id: int
    conversation_id: int
    to: str
    text: str
    sender: str | None = None  # our address: the number or mailbox the visitor wrote to
    subject: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    quick_replies: tuple[str, ...] = ()
    automatic: bool = False  # written by the bot or the system, not by a person
    files: tuple[OutgoingFile, ...] = ()  # the message's attachments (engine.channels.media)


@dataclass(frozen=True)
class SendResult:
    """What the provider said: its id for the sent message (an email's Message-ID for SMTP)."""

    provider_id: str | None = None


class DeliveryError(Exception):
    """A send that failed. ``retryable`` when trying again later may work (timeouts, 5xx, 429)."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class Transport(Protocol):
    """One provider's send API. Raises :class:`DeliveryError`; never returns on failure."""

    channel: Channel

    async def send(self, message: OutgoingMessage) -> SendResult: ...


@dataclass
class MemoryTransport:
    """The in-memory fake: records what was sent and fails the first ``fail_times`` sends."""

    channel: Channel
    fail_times: int = 0
    retryable: bool = True
    sent: list[OutgoingMessage] = field(default_factory=list)
    attempts: int = 0

    async def send(self, message: OutgoingMessage) -> SendResult:
        self.attempts += 1
        if self.attempts <= self.fail_times:
            raise DeliveryError(f"fake failure {self.attempts} of {self.fail_times}",
                                retryable=self.retryable)
        self.sent.append(message)
        return SendResult(provider_id=f"fake-{len(self.sent)}")


def client_id_for(channel: Channel, provider_id: str) -> str:
    """The provider's message id as a ``client_id``: as it is when it fits, else a stable digest
    (Messenger mids and email Message-IDs are often longer than the column)."""
    plain = f"{channel.value}:{provider_id}"
    if len(plain) <= CLIENT_ID_LIMIT:
        return plain
    return f"{channel.value}:sha256:{hashlib.sha256(provider_id.encode()).hexdigest()[:40]}"


def split_text(text: str, limit: int) -> list[str]:
    """``text`` in parts of at most ``limit`` characters, cut at a paragraph, line or word break
    where there is one (SMS and Messenger refuse longer messages)."""
    parts: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), window.rfind("\n"), window.rfind(" "))
        cut = cut if cut > limit // 2 else limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


async def post_to_provider(client: httpx.AsyncClient, provider: str, url: str,
                           **kwargs: Any) -> dict[str, Any]:
    """POST to a provider's API and return its JSON answer. Network errors, 429 and 5xx are worth
    another try; any other refusal is not, and its message names the provider's own explanation."""
    try:
        response = await client.post(url, **kwargs)
    except httpx.HTTPError as exc:
        raise DeliveryError(f"{provider}: {type(exc).__name__}: {exc}", retryable=True) from exc
    if response.is_success:
        try:
            return response.json()
        except ValueError:
            return {}
    retryable = response.status_code == 429 or response.status_code >= 500
    raise DeliveryError(f"{provider} answered {response.status_code}: {response.text[:500]}",
                        retryable=retryable)
