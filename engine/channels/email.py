"""Email: the JSON webhook of inbound-parse services (``from``, ``to``, ``subject``, ``text``,
``html``, ``message_id``, ``in_reply_to``, ``references``) and replies over SMTP.

Only what the visitor wrote this time is stored: the quoted earlier mail under "On ... wrote:",
lines starting with ``>``, Outlook's header block and the signature are cut. Replies carry
``In-Reply-To`` and ``References`` so the visitor's mail client keeps one thread, and the inbox finds
the conversation again from those headers when the visitor answers.
"""

from __future__ import annotations

import re
import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from html.parser import HTMLParser

import anyio.to_thread
from pydantic import Base64Bytes, ConfigDict, Field, field_validator

from engine.channels.base import DeliveryError, InboundFile, IncomingMessage, OutgoingMessage, SendResult
from engine.models import Channel
from engine.service.confirmation import Undeliverable
from engine.settings import Settings
from engine.validation import CleanInput, OneLine
from knowledge.errors import InputError

# "On Tue, 3 Mar 2026 at 10:02, Support <help@example.com> wrote:" and its translations (German
# puts the name after the verb); mail clients wrap it over two lines, so it is also matched on a
# line joined with the next.
ATTRIBUTION = re.compile(
    r"^\s*(on|le|am|el|il|op|em|den|w dniu|dnia)\b.{0,300}?"
    r"(wrote|a écrit|schrieb|escribió|ha scritto|schreef|escreveu|skrev|napisał|написал)[^:\n]{0,200}:\s*$",
    re.IGNORECASE | re.DOTALL)
SEPARATOR = re.compile(
    r"^\s*(-{2,}\s*(original message|forwarded message|ursprüngliche nachricht|message d'origine)"
    r"|_{10,}\s*$|-- ?$|sent from my \w+|get outlook for \w+|envoyé de mon \w+)",
    re.IGNORECASE)
HEADER_FROM = re.compile(r"^\s*\*?(from|de|von|van|da)\s*:\*?\s+\S", re.IGNORECASE)
HEADER_NEXT = re.compile(r"^\s*\*?(sent|date|to|envoyé|gesendet|an|à|enviado|subject)\s*:", re.IGNORECASE)


class MailAttachment(CleanInput):
    """One attached file of an inbound mail: its name, the type the mail declared (not trusted: the
    type is read from the bytes) and its bytes in base64 (``content``)."""

    model_config = ConfigDict(extra="ignore")

    filename: str | None = Field(default=None, max_length=400)
    content_type: str | None = Field(default=None, max_length=200)
    content: Base64Bytes = Field(description="the file's bytes, base64-encoded")


class InboundEmail(CleanInput):
    """The webhook body. ``from`` may carry a display name (``Ann Lee <ann@example.com>``); the
    subject must be one line (inbound-parse services unfold folded headers), since the replies'
    subject is made from it."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    sender: str = Field(alias="from", min_length=3, max_length=400)
    to: str | None = Field(default=None, max_length=2000)
    subject: OneLine | None = Field(default=None, max_length=2000)
    text: str | None = None
    html: str | None = None
    message_id: str = Field(min_length=1, max_length=2000)
    in_reply_to: str | None = Field(default=None, max_length=2000)
    references: list[str] = []
    headers: dict[str, str] = {}  # the raw headers where the service passes them (auto-reply checks)
    attachments: list[MailAttachment] = Field(default=[], max_length=50)

    @field_validator("references", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return value.split() if isinstance(value, str) else value


def strip_quoted(text: str) -> str:
    """The new part of a reply: everything above the first attribution line, separator, Outlook
    header block or signature, without ``>``-quoted lines."""
    lines = text.replace("\r\n", "\n").split("\n")
    kept: list[str] = []
    for index, line in enumerate(lines):
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if ATTRIBUTION.match(line) or (line.strip() and ATTRIBUTION.match(f"{line} {following}")):
            break
        if SEPARATOR.match(line):
            break
        if HEADER_FROM.match(line) and any(HEADER_NEXT.match(n) for n in lines[index + 1:index + 4]):
            break
        if not line.lstrip().startswith(">"):
            kept.append(line.rstrip())
    return "\n".join(kept).strip()


class _Text(HTMLParser):
    """Visible text of an HTML mail, blocks on their own lines, quoted blocks left out."""

    BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "table"})
    SKIP = frozenset({"blockquote", "style", "script", "head"})
    VOID = frozenset({"br", "img", "hr", "meta", "input", "link", "wbr", "col", "area", "source"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skipping:  # inside a skipped element: count nesting to find its end
            self.skipping += tag not in self.VOID
        elif tag in self.SKIP or "gmail_quote" in (dict(attrs).get("class") or ""):
            self.skipping = 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self.skipping:
            self.skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    return re.sub(r"\n\s*\n+", "\n\n", "".join(parser.parts)).strip()


AUTOMATIC_SENDERS = frozenset({"mailer-daemon", "postmaster", "noreply", "no-reply", "donotreply"})


def automatic(mail: InboundEmail) -> str | None:
    """Why this mail was sent by a machine (an out-of-office, a bounce, a list), or None. Answering
    one would start a loop of replies, so the inbox takes none of them (RFC 3834)."""
    headers = {name.lower(): value.strip().lower() for name, value in mail.headers.items()}
    if headers.get("auto-submitted", "no") != "no":
        return f"Auto-Submitted: {headers['auto-submitted']}"
    if headers.get("precedence") in {"bulk", "junk", "list", "auto_reply"}:
        return f"Precedence: {headers['precedence']}"
    marker = next((name for name in ("x-autoreply", "x-autorespond") if name in headers), None)
    if marker:
        return f"{marker} header"
    local = parseaddr(mail.sender)[1].partition("@")[0].lower()
    if local in AUTOMATIC_SENDERS:
        return f"sent from {local}"
    return None


def parse(mail: InboundEmail) -> IncomingMessage:
    """The webhook body as an :class:`IncomingMessage` holding only the new text."""
    name, address = parseaddr(mail.sender)
    if "@" not in address:
        raise InputError(f"'from' is not an email address: {mail.sender!r}", field="from")
    raw = mail.text if mail.text and mail.text.strip() else html_to_text(mail.html or "")
    files = tuple(InboundFile(filename=a.filename, content_type=a.content_type, data=a.content)
                  for a in mail.attachments)
    if not raw.strip() and not files:
        raise InputError("the email has neither 'text' nor 'html' content, nor attachments", field="text")
    text = strip_quoted(raw) or raw.strip()  # nothing above the quote: keep what was sent
    thread = tuple(ref for ref in (mail.in_reply_to, *reversed(mail.references)) if ref)
    return IncomingMessage(channel=Channel.email, external_id=address.lower(), text=text,
                           client_id=mail.message_id.strip(), name=name or None, email=address.lower(),
                           local=parseaddr(mail.to or "")[1] or None, subject=mail.subject, thread=thread,
                           files=files)


def reply_subject(subject: str | None) -> str:
    """``Re: <subject>`` on one line: whitespace runs (line breaks included) become one space, so a
    stored subject can never add a header to the reply."""
    subject = " ".join((subject or "").split()) or "Your message"
    return subject if subject.lower().startswith("re:") else f"Re: {subject}"


class SmtpTransport:
    """Sends one mail per message through the configured SMTP server, off the event loop."""

    channel = Channel.email

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def _new_mail(self, to: str, subject: str) -> EmailMessage:
        """A mail from ``email_from`` with its date and id. ``email.message`` refuses a header value
        holding a line break, so neither argument can add a header."""
        domain = parseaddr(self.settings.email_from)[1].partition("@")[2] or "localhost"
        mail = EmailMessage()
        mail["From"] = self.settings.email_from
        mail["To"] = to
        mail["Subject"] = subject
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = make_msgid(domain=domain)
        return mail

    async def send_notice(self, to: str, subject: str, text: str) -> str:
        """One mail of our own (not a reply in a conversation: an email confirmation code), marked
        ``Auto-Submitted: auto-generated`` so auto-responders leave it alone; returns its Message-ID.
        Undeliverable (503) when the SMTP server does not take it: the caller is a request waiting
        for the answer, not the retrying outbound dispatcher."""
        mail = self._new_mail(to, subject)
        mail["Auto-Submitted"] = "auto-generated"
        mail.set_content(text)
        try:
            await anyio.to_thread.run_sync(self._deliver, mail)
        except DeliveryError as exc:
            raise Undeliverable(f"the mail could not be sent ({exc}); try again later") from exc
        return mail["Message-ID"]

    async def send(self, message: OutgoingMessage) -> SendResult:
        mail = self._new_mail(message.to, reply_subject(message.subject))
        if message.in_reply_to:
            mail["In-Reply-To"] = message.in_reply_to
        if message.references:
            mail["References"] = " ".join(message.references)
        if message.automatic:
            mail["Auto-Submitted"] = "auto-replied"  # so out-of-office replies do not answer the bot
        mail.set_content(message.text)
        for file in message.files:  # the bytes themselves: a mail carries any file (engine.channels.media)
            maintype, _, subtype = file.content_type.partition("/")
            mail.add_attachment(file.data or b"", maintype=maintype, subtype=subtype, filename=file.filename)
        await anyio.to_thread.run_sync(self._deliver, mail)
        return SendResult(provider_id=mail["Message-ID"])

    def _deliver(self, mail: EmailMessage) -> None:
        settings = self.settings
        try:
            with smtplib.SMTP(settings.smtp_host, settings.smtp_port,
                              timeout=settings.delivery_timeout_seconds) as smtp:
                if settings.smtp_starttls:
                    smtp.starttls()
                if settings.smtp_username:
                    smtp.login(settings.smtp_username, settings.smtp_password)
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _text in exc.recipients.values()]
            raise DeliveryError(f"SMTP refused the recipient: {exc.recipients}",
                                retryable=all(400 <= code < 500 for code in codes)) from exc
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(f"SMTP answered {exc.smtp_code}: {exc.smtp_error!r}",
                                retryable=400 <= exc.smtp_code < 500) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"SMTP {settings.smtp_host}:{settings.smtp_port}: {exc}",
                                retryable=True) from exc
