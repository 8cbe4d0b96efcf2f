"""Instagram direct messages against a real server: signed ``object: instagram`` notifications in
(the Messenger route and app secret), the bot's and an operator's answers out through the local
stand-in for the Graph Send API with the Instagram token, the conversation in the inbox under the
``instagram`` channel, forged signatures and unknown objects refused; the transport's byte limit
and its token fallback against the same stand-in."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import httpx
import pytest

from engine.channels.base import OutgoingMessage
from engine.channels.messenger import INSTAGRAM_BYTES, MessengerTransport, split_bytes
from engine.models import Channel
from engine.settings import Settings
from tests.engine.channels.conftest import (
    APP_SECRET,
    INSTAGRAM_TOKEN,
    PAGE_TOKEN,
    Provider,
    operator_get,
    operator_post,
)
from tests.engine.conftest import Server

IG_ACCOUNT = "17841400000000001"  # our Instagram professional account, the recipient of visitors' DMs


def igsid() -> str:
    return f"igsid-{uuid.uuid4().hex[:12]}"


def instagram_body(sender: str, text: str | None, mid: str | None = None, **message: Any) -> bytes:
    """A notification as Instagram sends it: the Messenger shape under ``object: instagram``."""
    content: dict[str, Any] = {"mid": mid or "aWdfZAG1faWQ" + uuid.uuid4().hex, **message}
    if text is not None:
        content["text"] = text
    event = {"sender": {"id": sender}, "recipient": {"id": IG_ACCOUNT}, "timestamp": int(time.time() * 1000),
             "message": content}
    return json.dumps({"object": "instagram", "entry": [{"id": IG_ACCOUNT, "time": 0, "messaging": [event]}]}
                      ).encode()


def post_instagram(server: Server, body: bytes, secret: str = APP_SECRET) -> httpx.Response:
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    with server.http() as client:
        return client.post("/webhooks/messenger", content=body,
                           headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature})


def identities(server: Server, external_id: str) -> list[str]:
    """The channels on which ``external_id`` names a contact in the server's store."""
    from sqlmodel import Session, select

    from engine.db import make_engine
    from engine.models import ContactIdentity

    engine = make_engine(server.settings.database_url)
    try:
        with Session(engine) as session:
            return list(session.exec(select(ContactIdentity.channel).where(
                ContactIdentity.external_id == external_id)).all())
    finally:
        engine.dispose()


def to(sender: str):  # noqa: ANN201 (a predicate)
    return lambda r: r.path == "/me/messages" and r.json()["recipient"]["id"] == sender


def test_signed_dm_in_bot_answer_out_in_the_instagram_inbox(channel_server: Server,
                                                           provider: Provider) -> None:
    sender = igsid()
    response = post_instagram(channel_server, instagram_body(sender, "can I get my money back?"))
    assert response.status_code == 200
    [received] = response.json()
    assert received["duplicate"] is False

    sent = provider.wait_for(to(sender))
    assert sent.query == {"access_token": INSTAGRAM_TOKEN}  # Instagram's token, not the Messenger Page's
    assert "original payment method" in sent.json()["message"]["text"]

    operator = channel_server.new_operator()
    detail = operator_get(channel_server, operator["token"],
                          f"/api/operator/conversations/{received['conversation_id']}")
    assert detail["conversation"]["channel"] == "instagram"
    assert [m["text"] for m in detail["messages"] if m["role"] == "visitor"] == ["can I get my money back?"]
    listed = operator_get(channel_server, operator["token"],
                          "/api/operator/conversations?state=all&channel=instagram")
    assert received["conversation_id"] in {c["conversation"]["id"] for c in listed}
    messenger_only = operator_get(channel_server, operator["token"],
                                  "/api/operator/conversations?state=all&channel=messenger")
    assert received["conversation_id"] not in {c["conversation"]["id"] for c in messenger_only}


def test_operator_reply_leaves_on_instagram(channel_server: Server, provider: Provider) -> None:
    sender = igsid()
    [received] = post_instagram(channel_server, instagram_body(sender, "where is my parcel")).json()
    provider.wait_for(to(sender))
    token = channel_server.new_operator(name="Rita")["token"]
    conversation = f"/api/operator/conversations/{received['conversation_id']}"
    operator_post(channel_server, token, f"{conversation}/note", {"text": "internal: check SECRET-77"})
    reply = operator_post(channel_server, token, f"{conversation}/reply",
                          {"text": "Hi, Rita here. It ships today.", "client_id": uuid.uuid4().hex})
    sent = provider.wait_for(lambda r: to(sender)(r) and "Rita here" in r.json()["message"]["text"])
    assert sent.query == {"access_token": INSTAGRAM_TOKEN}
    detail = operator_get(channel_server, token, conversation)
    delivered = {m["id"]: m["delivered_at"] for m in detail["messages"]}
    assert delivered[reply["id"]] is not None
    note = next(m for m in detail["messages"] if m["visibility"] == "internal")
    assert note["delivered_at"] is None  # a note is never a delivery
    assert not any("SECRET-77" in r.json()["message"]["text"] for r in provider.matching(to(sender)))


def test_forged_signature_and_unknown_object_are_refused(channel_server: Server, provider: Provider) -> None:
    sender = igsid()
    forged = post_instagram(channel_server, instagram_body(sender, "hello"), secret="someone-else")
    assert forged.status_code == 403
    assert "X-Hub-Signature-256" in forged.json()["detail"]
    with channel_server.http() as client:
        unsigned = client.post("/webhooks/messenger", content=instagram_body(sender, "hello"),
                               headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 403

    body = instagram_body(sender, "hello").replace(b'"instagram"', b'"whatsapp_business_account"')
    unknown = post_instagram(channel_server, body)
    assert unknown.status_code == 422
    assert "'instagram'" in unknown.json()["detail"][0]["msg"]
    assert identities(channel_server, sender) == []  # refused before anything was stored


def test_echoes_unsent_and_redelivered_messages_are_not_new(channel_server: Server,
                                                           provider: Provider) -> None:
    sender, mid = igsid(), "aWdfZAG1faWQ" + uuid.uuid4().hex * 3
    body = instagram_body(sender, "when will my order arrive", mid=mid)
    first = post_instagram(channel_server, body).json()
    again = post_instagram(channel_server, body).json()
    assert again[0]["duplicate"] is True and again[0]["message_id"] == first[0]["message_id"]
    assert post_instagram(channel_server, instagram_body(sender, "our own words", is_echo=True)).json() == []
    assert post_instagram(channel_server, instagram_body(sender, None, mid=mid, is_deleted=True)).json() == []
    provider.wait_for(to(sender))
    token = channel_server.new_operator()["token"]
    detail = operator_get(channel_server, token, f"/api/operator/conversations/{first[0]['conversation_id']}")
    assert [m["text"] for m in detail["messages"] if m["role"] == "visitor"] == ["when will my order arrive"]


@pytest.mark.parametrize("text", ["é" * 2500, "日本語のテキスト " * 300, "word " * 900, "short"])
def test_split_bytes_keeps_every_part_within_instagrams_limit(text: str) -> None:
    parts = split_bytes(text, INSTAGRAM_BYTES)
    assert all(len(part.encode()) <= INSTAGRAM_BYTES for part in parts)
    assert "".join(parts).replace(" ", "") == text.replace(" ", "")
    if text == "é" * 2500:  # no break to cut at: parts as full as the limit allows
        assert len(parts) == 5


@pytest.mark.anyio
async def test_transport_sends_long_text_in_byte_parts_with_the_page_token(provider: Provider,
                                                                         bot_settings: Settings) -> None:
    """Without an Instagram token of its own, the linked Page's Messenger token sends; the quick
    reply rides on the last part only."""
    settings = bot_settings.model_copy(update={"messenger_api_url": provider.url,
                                               "messenger_page_token": PAGE_TOKEN,
                                               "instagram_page_token": ""})
    sender = igsid()
    async with httpx.AsyncClient() as client:
        transport = MessengerTransport(settings, client, Channel.instagram)
        outgoing = OutgoingMessage(channel=Channel.instagram, message_id=1, conversation_id=1, to=sender,
                                   text="ü" * 1200, quick_replies=("Talk to a person",))
        result = await transport.send(outgoing)
    sent = provider.matching(to(sender))
    assert result.provider_id is not None
    assert [len(r.json()["message"]["text"].encode()) for r in sent] == [1000, 1000, 400]
    assert all(r.query == {"access_token": PAGE_TOKEN} for r in sent)
    assert [("quick_replies" in r.json()["message"]) for r in sent] == [False, False, True]
