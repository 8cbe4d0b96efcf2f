"""The providers' side, run for real on local ports: an HTTP server standing in for the SMS and
Messenger APIs (it records each request and answers in their shapes), an SMTP server (aiosmtpd)
receiving the emails, and an engine server whose channel settings point at them.
"""

from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import hmac
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from aiosmtpd.controller import Controller

from engine.channels import sms
from engine.service.bot import Bot
from engine.settings import Settings
from tests.engine.conftest import Server, free_port, run_server

SMS_SID = "AC" + "0" * 32
SMS_TOKEN = "twilio-auth-token"
OUR_NUMBER = "+15550000000"
PAGE_ID = "page-1"
APP_SECRET = "messenger-app-secret"
VERIFY_TOKEN = "messenger-verify-token"
PAGE_TOKEN = "messenger-page-token"
INSTAGRAM_TOKEN = "instagram-page-token"
EMAIL_TOKEN = "email-webhook-token"
SUPPORT = "support@shop.example"


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode()))

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Provider:
    """The SMS and Messenger APIs' side. ``failures`` holds statuses to answer, in turn, to the
    requests whose body contains ``fail_marker``, before succeeding."""

    url: str
    requests: list[Recorded] = field(default_factory=list)
    failures: list[int] = field(default_factory=list)
    fail_marker: bytes = b""
    lock: threading.Lock = field(default_factory=threading.Lock)
    media: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # path -> (type, bytes) for GET

    def host(self, path: str, content_type: str, data: bytes) -> str:
        """Serve ``data`` at ``path`` (as MMS media or a Messenger attachment are); returns its URL."""
        with self.lock:
            self.media[path] = (content_type, data)
        return self.url + path

    def wait_for(self, predicate: Callable[[Recorded], bool], timeout: float = 20) -> Recorded:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                found = [r for r in self.requests if predicate(r)]
            if found:
                return found[-1]
            time.sleep(0.02)
        raise AssertionError(f"no such request reached the provider; it got {self.requests}")

    def matching(self, predicate: Callable[[Recorded], bool]) -> list[Recorded]:
        with self.lock:
            return [r for r in self.requests if predicate(r)]

    def texts_to(self, number: str) -> list[Recorded]:
        """The SMS sent to ``number`` so far (Twilio's Messages resource), oldest first."""
        return self.matching(lambda r: r.path.endswith("/Messages.json") and r.form().get("To") == number)


def serve_provider() -> Iterator[Provider]:
    port = free_port()
    provider = Provider(f"http://127.0.0.1:{port}")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            path = urlsplit(self.path).path
            with provider.lock:
                headers = {k.lower(): v for k, v in self.headers.items()}
                provider.requests.append(Recorded("GET", path, {}, headers, b""))
                found = provider.media.get(path)
            if found is None:
                self._answer(404, {"message": "no such media"})
                return
            self.send_response(200)
            self.send_header("Content-Type", found[0])
            self.send_header("Content-Length", str(len(found[1])))
            self.end_headers()
            self.wfile.write(found[1])

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            parts = urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with provider.lock:
                provider.requests.append(Recorded("POST", parts.path, dict(parse_qsl(parts.query)),
                                                  {k.lower(): v for k, v in self.headers.items()}, body))
                failing = provider.failures and provider.fail_marker in body
                status = provider.failures.pop(0) if failing else None
            if status is not None:
                self._answer(status, {"message": f"provider failure {status}", "status": status})
            elif parts.path.endswith("/Messages.json"):
                self._answer(201, {"sid": "SM" + uuid.uuid4().hex, "status": "queued"})
            elif parts.path.endswith("/me/messages"):
                payload = json.loads(body)
                self._answer(200, {"recipient_id": payload["recipient"]["id"],
                                   "message_id": "m_" + uuid.uuid4().hex})
            else:
                self._answer(404, {"message": "no such resource"})

        def _answer(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield provider
    httpd.shutdown()
    httpd.server_close()


@dataclass
class Mailbox:
    """Every email the SMTP server received, parsed."""

    port: int
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd)
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"

    def wait_for(self, predicate: Callable[[EmailMessage], bool], timeout: float = 20) -> EmailMessage:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [m for m in list(self.messages) if predicate(m)]
            if found:
                return found[-1]
            time.sleep(0.02)
        raise AssertionError(f"no such email arrived; got {[m['Subject'] for m in self.messages]}")


@pytest.fixture(scope="session")
def provider() -> Iterator[Provider]:
    yield from serve_provider()


def serve_mailbox() -> Iterator[Mailbox]:
    """A local SMTP server (aiosmtpd) on a free port, for as long as the generator runs."""
    box = Mailbox(free_port())
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    yield box
    controller.stop()


@pytest.fixture(scope="session")
def mailbox() -> Iterator[Mailbox]:
    yield from serve_mailbox()


def channel_settings(base: Settings, provider: Provider, mailbox: Mailbox, **extra: Any) -> Settings:
    return base.model_copy(update={
        "sms_provider_url": provider.url, "sms_account_sid": SMS_SID, "sms_auth_token": SMS_TOKEN,
        "sms_from": OUR_NUMBER,
        "messenger_api_url": provider.url, "messenger_app_secret": APP_SECRET,
        "messenger_verify_token": VERIFY_TOKEN, "messenger_page_token": PAGE_TOKEN,
        "instagram_page_token": INSTAGRAM_TOKEN,
        "email_webhook_token": EMAIL_TOKEN, "email_from": f"Shop Support <{SUPPORT}>",
        "smtp_host": "127.0.0.1", "smtp_port": mailbox.port,
        "delivery_backoff_seconds": 0.05, "delivery_sweep_seconds": 0.5, **extra})


@pytest.fixture(scope="session")
def channel_server(database_url: str, bot_settings: Settings, bot: Bot, provider: Provider,
                   mailbox: Mailbox) -> Iterator[Server]:
    """The engine with every channel configured, on SQLite and on PostgreSQL."""
    settings = channel_settings(bot_settings, provider, mailbox, database_url=database_url)
    for server in run_server(settings, bot):
        warm_up(server)
        yield server


def warm_up(server: Server) -> None:
    """One widget turn, so the bot's first-turn start-up cost is not charged to a channel test's wait."""
    conversation = server.start_visitor()
    with server.http() as client:
        client.post("/api/visitor/messages", json={"text": "hello", "client_id": uuid.uuid4().hex},
                    headers={"Authorization": f"Bearer {conversation['token']}"}).raise_for_status()


# --- what providers send us -----------------------------------------------------------------------

def new_phone() -> str:
    return "+1555" + str(secrets.randbelow(10**7)).zfill(7)


def new_berlin_phone() -> tuple[str, str]:
    """A fresh number that ``phonenumbers`` calls valid (a visitor's typed phone must be; the 555
    range of :func:`new_phone` is only possible), as a visitor types it and in E.164."""
    digits = str(secrets.randbelow(10**8)).zfill(8)
    return f"+49 30 {digits[:4]} {digits[4:]}", f"+4930{digits}"


def post_sms(server: Server, sender: str, text: str, sid: str | None = None,
             token: str = SMS_TOKEN, **media: str) -> httpx.Response:
    """A Twilio-signed inbound SMS (``media``: ``NumMedia``, ``MediaUrl0``... of an MMS)."""
    fields = {"From": sender, "To": OUR_NUMBER, "Body": text, "MessageSid": sid or "SM" + uuid.uuid4().hex,
              "AccountSid": SMS_SID, "NumMedia": "0", **media}
    url = f"{server.base_url}/webhooks/sms"
    signature = sms.signature(token, url, fields.items())
    with server.http() as client:
        return client.post("/webhooks/sms", data=fields, headers={"X-Twilio-Signature": signature})


def messenger_body(sender: str, text: str, mid: str | None = None, **message: Any) -> bytes:
    event = {"sender": {"id": sender}, "recipient": {"id": PAGE_ID}, "timestamp": int(time.time() * 1000),
             "message": {"mid": mid or "m_" + uuid.uuid4().hex * 2, "text": text, **message}}
    notification = {"object": "page", "entry": [{"id": PAGE_ID, "time": 0, "messaging": [event]}]}
    return json.dumps(notification).encode()


def post_messenger(server: Server, body: bytes, secret: str = APP_SECRET) -> httpx.Response:
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    with server.http() as client:
        return client.post("/webhooks/messenger", content=body,
                           headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature})


def post_email(server: Server, **mail: Any) -> httpx.Response:
    with server.http() as client:
        return client.post("/webhooks/email", json=mail, headers={"Authorization": f"Bearer {EMAIL_TOKEN}"})


def basic_auth(request: Recorded) -> tuple[str, str]:
    user, _, password = base64.b64decode(request.headers["authorization"].split()[1]).decode().partition(":")
    return user, password


def operator_get(server: Server, token: str, path: str) -> Any:
    with server.http() as client:
        response = client.get(path, headers={"Authorization": f"Bearer {token}"})
    response.raise_for_status()
    return response.json()


def operator_post(server: Server, token: str, path: str, body: dict[str, Any] | None = None) -> Any:
    with server.http() as client:
        response = client.post(path, json=body or {}, headers={"Authorization": f"Bearer {token}"})
    response.raise_for_status()
    return response.json()
