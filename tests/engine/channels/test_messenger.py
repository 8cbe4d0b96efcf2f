"""Messenger against a real server: the subscription check, signed events in, the bot's answer out
through the local stand-in for the Graph Send API, refused signatures, echoes left alone."""

from __future__ import annotations

import time
import uuid

from tests.engine.channels.conftest import (
    PAGE_TOKEN,
    VERIFY_TOKEN,
    Provider,
    messenger_body,
    post_messenger,
)
from tests.engine.conftest import Server


def to(psid: str):  # noqa: ANN201 (a predicate)
    return lambda r: r.path == "/me/messages" and r.json()["recipient"]["id"] == psid


def test_subscription_check(channel_server: Server) -> None:
    params = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
    with channel_server.http() as client:
        ok = client.get("/webhooks/messenger", params=params)
        wrong = client.get("/webhooks/messenger", params={**params, "hub.verify_token": "guess"})
        missing = client.get("/webhooks/messenger", params={"hub.mode": "subscribe"})
    assert ok.status_code == 200 and ok.text == "1158201444"
    assert wrong.status_code == 403 and "hub.verify_token" in wrong.json()["detail"]
    assert missing.status_code == 422
    assert {e["loc"][-1] for e in missing.json()["detail"]} == {"hub.verify_token", "hub.challenge"}


def test_signed_message_in_bot_answer_out(channel_server: Server, provider: Provider) -> None:
    psid = f"psid-{uuid.uuid4().hex[:12]}"
    response = post_messenger(channel_server, messenger_body(psid, "can I get my money back?"))
    assert response.status_code == 200
    [received] = response.json()
    assert received["duplicate"] is False

    sent = provider.wait_for(to(psid))
    assert sent.query == {"access_token": PAGE_TOKEN}
    payload = sent.json()
    assert payload["messaging_type"] == "RESPONSE"
    assert "original payment method" in payload["message"]["text"]


def test_bad_signature_is_refused(channel_server: Server, provider: Provider) -> None:
    psid = f"psid-{uuid.uuid4().hex[:12]}"
    body = messenger_body(psid, "hello there")
    forged = post_messenger(channel_server, body, secret="someone-else")
    assert forged.status_code == 403
    assert "X-Hub-Signature-256" in forged.json()["detail"]
    with channel_server.http() as client:
        unsigned = client.post("/webhooks/messenger", content=body,
                               headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 403
    time.sleep(0.5)
    assert provider.matching(to(psid)) == []


def test_malformed_notification_names_the_field(channel_server: Server) -> None:
    body = b'{"object": "page", "entry": [{"messaging": [{"message": {}}]}]}'
    response = post_messenger(channel_server, body)
    assert response.status_code == 422
    assert "entry.0.messaging.0.sender" in response.json()["detail"][0]["msg"]


def test_echoes_and_redeliveries_are_not_new_messages(channel_server: Server, provider: Provider) -> None:
    psid, mid = f"psid-{uuid.uuid4().hex[:12]}", "m_" + uuid.uuid4().hex * 3  # longer than a client id
    first = post_messenger(channel_server, messenger_body(psid, "when will my order arrive", mid=mid)).json()
    again = post_messenger(channel_server, messenger_body(psid, "when will my order arrive", mid=mid)).json()
    assert again[0]["duplicate"] is True and again[0]["message_id"] == first[0]["message_id"]
    echo = post_messenger(channel_server, messenger_body(psid, "our own words", is_echo=True)).json()
    assert echo == []
    provider.wait_for(to(psid))
    time.sleep(1.0)
    assert len(provider.matching(to(psid))) == 1
