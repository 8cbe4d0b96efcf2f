"""Files on SMS and email against a real server and the local stand-ins of tests/engine/channels: an
MMS keeps its picture and its words (media fetched from the Twilio stand-in with the account's
credentials), a reply's picture goes out as MMS media behind a signed link that Twilio can fetch (a
PDF, which MMS cannot carry, as a link in the text), an email's attachment is stored and a reply's
attachment arrives at the local SMTP server. SQLite and PostgreSQL, each a store of its own (its
``public_url`` is its own address, so no other test server's dispatcher sends these replies)."""

from __future__ import annotations

import base64
import uuid
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.engine.attachments import files
from tests.engine.channels.conftest import (
    SMS_SID,
    SMS_TOKEN,
    SUPPORT,
    Mailbox,
    Provider,
    basic_auth,
    messenger_body,
    new_phone,
    operator_get,
    operator_post,
    post_email,
    post_messenger,
    post_sms,
)
from tests.engine.channels.test_instagram import instagram_body, post_instagram
from tests.engine.conftest import Server


def media_path() -> str:
    return f"/2010-04-01/Accounts/{SMS_SID}/Messages/MM{uuid.uuid4().hex}/Media/ME{uuid.uuid4().hex}"


def conversation_of(server: Server, token: str, phone: str) -> dict[str, Any]:
    listed = operator_get(server, token, "/api/operator/conversations?state=all")
    found = next(row for row in listed if row["contact"]["phone"] == phone)
    return operator_get(server, token, f"/api/operator/conversations/{found['conversation']['id']}")


def upload(server: Server, token: str, conversation_id: int, name: str, data: bytes) -> dict[str, Any]:
    with server.http() as http:
        response = http.post(f"/api/operator/conversations/{conversation_id}/attachments",
                             files={"file": (name, data)}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.text
    return response.json()


def test_an_mms_keeps_its_text_and_picture_and_a_reply_with_files_goes_out(files_server: Server,
                                                                           provider: Provider) -> None:
    phone, picture = new_phone(), files.photo()
    good = provider.host(media_path(), "image/jpeg", picture)
    disguised = provider.host(media_path(), "image/png", files.executable())
    response = post_sms(files_server, phone, "The box arrived crushed, see the photo", NumMedia="2",
                        MediaUrl0=good, MediaContentType0="image/jpeg",
                        MediaUrl1=disguised, MediaContentType1="image/png")
    assert response.status_code == 200, response.text
    fetched = provider.wait_for(lambda r: r.method == "GET" and r.path == urlsplit(good).path)
    assert basic_auth(fetched) == (SMS_SID, SMS_TOKEN)  # Twilio's media links want the account's login

    operator = files_server.new_operator(name="Sam")
    detail = conversation_of(files_server, operator["token"], phone)
    [message] = [m for m in detail["messages"] if m["role"] == "visitor"]
    text, refused = message["text"].split("\n")
    assert text == "The box arrived crushed, see the photo"
    assert refused.startswith("[a file was not kept: ") and "is an executable (ELF)" in refused
    [kept] = message["attachments"]
    assert (kept["content_type"], kept["size"], kept["thumbnail"]) == ("image/jpeg", len(picture), True)
    with files_server.http() as http:
        stored = http.get(f"/api/operator/attachments/{kept['id']}",
                          headers={"Authorization": f"Bearer {operator['token']}"})
    assert stored.content == picture

    conversation_id = detail["conversation"]["id"]
    label = upload(files_server, operator["token"], conversation_id, "return-label.png", files.screenshot())
    invoice = upload(files_server, operator["token"], conversation_id, "invoice.pdf", files.pdf())
    operator_post(files_server, operator["token"], f"/api/operator/conversations/{conversation_id}/reply",
                  {"text": "Sorry! Here is a return label and your invoice.", "client_id": uuid.uuid4().hex,
                   "attachment_ids": [label["id"], invoice["id"]]})
    sent = provider.wait_for(lambda r: r.path.endswith("/Messages.json") and r.form().get("To") == phone
                             and "MediaUrl" in r.form())
    form = sent.form()
    assert form["Body"].startswith("Sorry! Here is a return label and your invoice.")
    link = form["MediaUrl"]
    assert link.startswith(f"{files_server.base_url}/files/{label['id']}/return-label.png?expires=")
    assert f"invoice.pdf: {files_server.base_url}/files/{invoice['id']}/invoice.pdf?" in form["Body"]
    with httpx.Client() as twilio:  # what the provider does with the link: fetch it, no token
        assert twilio.get(link).content == files.screenshot()
        pdf_link = form["Body"].rsplit("invoice.pdf: ", 1)[1].split()[0]
        assert twilio.get(pdf_link).content == files.pdf()


def test_an_email_attachment_arrives_and_a_reply_with_one_goes_out(files_server: Server,
                                                                  mailbox: Mailbox) -> None:
    address = f"ann.{uuid.uuid4().hex[:8]}@customer.example"
    receipt = files.pdf("Receipt 5521")
    response = post_email(files_server, **{"from": f"Ann Lee <{address}>"}, to=SUPPORT, subject="Refund",
                          text="I want a refund, receipt attached.",
                          message_id=f"<{uuid.uuid4().hex}@c.example>",
                          attachments=[{"filename": "receipt.pdf", "content_type": "application/pdf",
                                        "content": base64.b64encode(receipt).decode()},
                                       {"filename": "invoice.pdf.exe", "content_type": "application/pdf",
                                        "content": base64.b64encode(files.executable()).decode()}])
    assert response.status_code == 200, response.text
    conversation_id = response.json()["conversation_id"]

    operator = files_server.new_operator(name="Sam")
    detail = operator_get(files_server, operator["token"], f"/api/operator/conversations/{conversation_id}")
    [message] = [m for m in detail["messages"] if m["role"] == "visitor"]
    words, refused = message["text"].split("\n")
    assert words == "I want a refund, receipt attached."
    assert refused.startswith("[a file was not kept: invoice.pdf.exe is an executable (ELF)")
    assert [(a["filename"], a["size"]) for a in message["attachments"]] == [("receipt.pdf", len(receipt))]

    label = upload(files_server, operator["token"], conversation_id, "return-label.png", files.screenshot())
    operator_post(files_server, operator["token"], f"/api/operator/conversations/{conversation_id}/reply",
                  {"text": "Refund started; print this label.", "client_id": uuid.uuid4().hex,
                   "attachment_ids": [label["id"]]})
    mail = mailbox.wait_for(lambda m: m["To"] == address and m.is_multipart())
    assert mail["Subject"] == "Re: Refund"
    assert mail.get_body(("plain",)).get_content().strip() == "Refund started; print this label."
    [attached] = list(mail.iter_attachments())
    assert attached.get_filename() == "return-label.png" and attached.get_content_type() == "image/png"
    assert attached.get_content() == files.screenshot()


def test_mms_media_elsewhere_than_the_provider_is_not_fetched(files_server: Server) -> None:
    phone, elsewhere = new_phone(), "http://169.254.169.254/latest/meta-data"
    response = post_sms(files_server, phone, "", NumMedia="1", MediaUrl0=elsewhere)
    assert response.status_code == 200, response.text
    operator = files_server.new_operator()
    [message] = [m for m in conversation_of(files_server, operator["token"], phone)["messages"]
                 if m["role"] == "visitor"]
    assert message["attachments"] == []
    assert message["text"] == ("[a file was not kept: http://169.254.169.254/latest/meta-data could not be "
                               "fetched (the link is not the provider's, so it was not followed)]")


@pytest.mark.parametrize("channel", ["messenger", "instagram"])
def test_messenger_and_instagram_attachments_in_and_out(files_server: Server, provider: Provider,
                                                        channel: str) -> None:
    sender = f"psid-{uuid.uuid4().hex[:12]}"
    picture = provider.host(f"/cdn/{uuid.uuid4().hex}.jpg", "image/jpeg", files.photo())
    attachments = [{"type": "image", "payload": {"url": picture}}]
    body = (messenger_body(sender, "Wrong colour arrived", attachments=attachments) if channel == "messenger"
            else instagram_body(sender, "Wrong colour arrived", attachments=attachments))
    answer = (post_messenger if channel == "messenger" else post_instagram)(files_server, body)
    assert answer.status_code == 200, answer.text
    conversation_id = answer.json()[0]["conversation_id"]
    operator = files_server.new_operator()
    detail = operator_get(files_server, operator["token"], f"/api/operator/conversations/{conversation_id}")
    assert detail["conversation"]["channel"] == channel
    [message] = [m for m in detail["messages"] if m["role"] == "visitor"]
    assert message["text"] == "Wrong colour arrived"
    assert [a["content_type"] for a in message["attachments"]] == ["image/jpeg"]

    label = upload(files_server, operator["token"], conversation_id, "label.png", files.screenshot())
    invoice = upload(files_server, operator["token"], conversation_id, "invoice.pdf", files.pdf())
    operator_post(files_server, operator["token"], f"/api/operator/conversations/{conversation_id}/reply",
                  {"text": "Sorry! A label and the invoice:", "client_id": uuid.uuid4().hex,
                   "attachment_ids": [label["id"], invoice["id"]]})

    def sent_to(r: Any) -> bool:
        return r.path.endswith("/me/messages") and r.json()["recipient"]["id"] == sender

    image = provider.wait_for(lambda r: sent_to(r) and "attachment" in r.json()["message"]
                              and r.json()["message"]["attachment"]["type"] == "image")
    link = image.json()["message"]["attachment"]["payload"]["url"]
    assert link.startswith(f"{files_server.base_url}/files/{label['id']}/label.png?expires=")
    with httpx.Client() as platform:
        assert platform.get(link).content == files.screenshot()
    texts = [r.json()["message"]["text"] for r in provider.matching(sent_to) if "text" in r.json()["message"]]
    reply_text = next(t for t in texts if t.startswith("Sorry! A label and the invoice:"))
    if channel == "messenger":  # a document goes as a file attachment
        document = provider.wait_for(lambda r: sent_to(r) and "attachment" in r.json()["message"]
                                     and r.json()["message"]["attachment"]["type"] == "file")
        sent_link = document.json()["message"]["attachment"]["payload"]["url"]
        assert f"/files/{invoice['id']}/invoice.pdf?" in sent_link
    else:  # Instagram shows no documents: a signed link in the text instead
        assert f"invoice.pdf: {files_server.base_url}/files/{invoice['id']}/invoice.pdf?" in reply_text
