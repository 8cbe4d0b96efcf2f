"""One thread per customer against real peers: a uvicorn server on SQLite and PostgreSQL, the
visitor's WebSocket, the local SMTP server and the Twilio stand-in.

The same person writes by web chat, email and SMS: the confirmed email joins the chat by itself
(safe: she proved the address), the text from an unknown number does not (nothing proves it is her)
until an operator merges the two; every reply leaves on the channel she last used, or the one the
operator chooses; unmerging gives both contacts back what they had. A web visitor who left the page
gets a person's reply by the address she confirmed; one she only typed gets nothing.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.engine.channels.conftest import (
    SUPPORT,
    Mailbox,
    Provider,
    new_phone,
    operator_get,
    operator_post,
    post_email,
    post_sms,
)
from tests.engine.channels.test_sms import conversation_of
from tests.engine.conftest import Server, receive_until
from tests.engine.security.conftest import bearer, new_client_id
from tests.engine.security.test_email_confirmation import ask, code_in, confirm, new_address
from tests.engine.workflow.test_workflow_api import wait_for


def confirmed_visitor(server: Server, mailbox: Mailbox, address: str) -> dict[str, Any]:
    """A web visitor who has written once and confirmed ``address`` with the code mailed to it."""
    visitor = server.start_visitor(name="Dana")
    with server.http() as http:
        said = http.post("/api/visitor/messages", headers=bearer(visitor["token"]),
                         json={"text": "hello, a question about my order", "client_id": new_client_id()})
        assert said.status_code == 200, said.text
        assert ask(http, visitor["token"], address).status_code == 202
        code = code_in(mailbox.wait_for(lambda m: address in str(m["To"])))
        assert confirm(http, visitor["token"], code).status_code == 200
    return visitor


def timeline(server: Server, token: str, contact_id: int) -> dict[str, Any]:
    return operator_get(server, token, f"/api/operator/contacts/{contact_id}/timeline")


def reply(server: Server, token: str, conversation_id: int, text: str, **extra: Any) -> dict[str, Any]:
    return operator_post(server, token, f"/api/operator/conversations/{conversation_id}/reply",
                         {"text": text, "client_id": uuid.uuid4().hex, **extra})


def test_web_email_and_sms_end_in_one_thread_and_unmerge_restores_both(
        channel_server: Server, mailbox: Mailbox, provider: Provider) -> None:
    address, phone = new_address(), new_phone()
    visitor = confirmed_visitor(channel_server, mailbox, address)
    web = visitor["conversation_id"]
    operator = channel_server.new_operator(name="Noor")
    token = operator["token"]
    contact = operator_get(channel_server, token, f"/api/operator/conversations/{web}")["contact"]["id"]

    # the confirmed address is hers: her mail continues the chat, and the bot answers it by mail
    mail_id = f"<{uuid.uuid4().hex}@customer.example>"
    mail = post_email(channel_server, **{"from": f"Dana <{address}>"}, to=SUPPORT, subject="Order 1042",
                      text="how long does shipping take?", message_id=mail_id)
    assert mail.status_code == 200 and mail.json()["conversation_id"] == web
    answer = mailbox.wait_for(lambda m: address in str(m["To"]) and "business days" in m.get_content())
    assert answer["In-Reply-To"] == mail_id  # her mail client files it under the mail she sent
    assert answer["Subject"] == "Re: Order 1042"

    # a number nobody proved is hers: a contact of its own, until an operator merges it
    assert post_sms(channel_server, phone, "it's Dana again, from my phone").status_code == 200
    texted = conversation_of(channel_server, phone)
    other = operator_get(channel_server, token, f"/api/operator/conversations/{texted}")["contact"]["id"]
    assert other != contact
    merged = operator_post(channel_server, token, f"/api/operator/contacts/{contact}/merge",
                           {"source_id": other, "reason": "she says so in the text"})
    assert merged["moved"]["conversations"] == [texted] and merged["actor_id"] == operator["operator"]["id"]

    thread = timeline(channel_server, token, contact)
    assert {c["id"] for c in thread["conversations"]} == {web, texted}
    said = [e["channel"] for e in thread["entries"] if e["message"]["role"] == "visitor"]
    assert said == ["web", "email", "sms"]
    identities = {(i["channel"], i["external_id"]) for i in thread["identities"]}
    assert identities == {("email", address), ("sms", phone)}

    # the reply leaves on the channel she used last (the text), even written in the chat
    route = operator_get(channel_server, token, f"/api/operator/conversations/{web}/route")
    assert (route["default"]["channel"], route["default"]["to"]) == ("sms", phone)
    assert {o["channel"] for o in route["options"]} == {"web", "email", "sms"}
    reply(channel_server, token, web, "Noor here: your parcel is on its way.")
    sent = provider.wait_for(lambda r: r.form().get("To") == phone and "Noor here" in r.form()["Body"])
    assert sent.path.endswith("/Messages.json")
    # ... or on the one the operator chooses
    reply(channel_server, token, web, "The tracking link is in this mail.", channel="email")
    mailbox.wait_for(lambda m: address in str(m["To"]) and "tracking link" in m.get_content())
    refused = _post(channel_server, token, f"/api/operator/conversations/{texted}/reply",
                    {"text": "hi", "channel": "messenger"})
    assert refused.status_code == 422 and "no messenger address" in refused.text
    thread = wait_for(lambda: (t := timeline(channel_server, token, contact)) and all(
        e["delivery_status"] == "sent" for e in t["entries"] if e["message"]["role"] == "operator") and t,
        "both replies sent", timeout=20)
    routed = [(e["channel"], e["to"]) for e in thread["entries"] if e["message"]["role"] == "operator"]
    assert routed == [("sms", phone), ("email", address)]

    # unmerge: both contacts exactly as they were; her next text is the other contact's again
    undone = operator_post(channel_server, token, f"/api/operator/merges/{merged['id']}/unmerge",
                           {"reason": "checked: a different Dana"})
    assert undone["undone_at"] is not None
    kept, given_back = timeline(channel_server, token, contact), timeline(channel_server, token, other)
    assert [c["id"] for c in kept["conversations"]] == [web]
    assert [(i["channel"], i["external_id"]) for i in kept["identities"]] == [("email", address)]
    assert [c["id"] for c in given_back["conversations"]] == [texted] and given_back["merged_into"] is None
    assert [(i["channel"], i["external_id"]) for i in given_back["identities"]] == [("sms", phone)]
    assert [m["id"] for m in kept["merges"]] == [merged["id"]]  # the history stays, marked undone
    assert post_sms(channel_server, phone, "one more thing").status_code == 200
    assert conversation_of(channel_server, phone) == texted
    again = _post(channel_server, token, f"/api/operator/merges/{merged['id']}/unmerge", {})
    assert again.status_code == 409 and "already undone" in again.text


def test_a_visitor_who_left_the_page_gets_the_reply_by_the_email_she_confirmed(
        channel_server: Server, mailbox: Mailbox) -> None:
    address = new_address()
    visitor = confirmed_visitor(channel_server, mailbox, address)
    web = visitor["conversation_id"]
    token = channel_server.new_operator(name="Ines")["token"]
    route_path = f"/api/operator/conversations/{web}/route"

    with channel_server.visitor_socket(visitor["token"]) as socket:
        receive_until(socket, lambda f: f["type"] == "state")  # on the page from here
        route = operator_get(channel_server, token, route_path)["default"]
        assert (route["channel"], route["reason"]) == ("web", "the visitor is in the chat")
        reply(channel_server, token, web, "Ines here, one moment please.")
        receive_until(socket, lambda f: f["type"] == "message" and "Ines here" in f["message"]["text"])

    def routed_away() -> dict[str, Any] | None:
        default = operator_get(channel_server, token, route_path)["default"]
        return default if default["channel"] != "web" else None

    gone = wait_for(routed_away, "the server to see the socket close")
    assert (gone["channel"], gone["to"]) == ("email", address)
    assert gone["reason"] == "the visitor left the chat: by email"
    reply(channel_server, token, web, "Found it: the refund left this morning.")
    mail = mailbox.wait_for(lambda m: address in str(m["To"]) and "refund left" in m.get_content())
    assert "Ines here" not in mail.get_content()  # the reply she saw in the chat was not mailed too
    assert mail["Auto-Submitted"] is None  # a person wrote it
    contact = operator_get(channel_server, token, f"/api/operator/conversations/{web}")["contact"]["id"]
    entries = timeline(channel_server, token, contact)["entries"]
    assert [(e["channel"], e["to"]) for e in entries if e["message"]["role"] == "operator"] == [
        ("web", None), ("email", address)]
    # back on the page, the reply is in the chat as well
    with channel_server.visitor_socket(visitor["token"]) as socket:
        frames = receive_until(socket, lambda f: f["type"] == "state")
    assert any(f["type"] == "message" and "refund left" in f["message"]["text"] for f in frames)


def test_an_email_only_typed_into_the_widget_neither_links_nor_receives(
        channel_server: Server, mailbox: Mailbox) -> None:
    address = new_address()
    visitor = channel_server.start_visitor(name="Sol", email=address)  # typed, never confirmed
    web = visitor["conversation_id"]
    token = channel_server.new_operator()["token"]
    mail = post_email(channel_server, **{"from": address}, to=SUPPORT, subject="Hello",
                      text="is this Sol's chat?", message_id=f"<{uuid.uuid4().hex}@customer.example>")
    assert mail.status_code == 200 and mail.json()["conversation_id"] != web
    contact = operator_get(channel_server, token, f"/api/operator/conversations/{web}")["contact"]["id"]
    thread = timeline(channel_server, token, contact)
    assert [c["id"] for c in thread["conversations"]] == [web] and thread["identities"] == []
    assert [s["email"] for s in thread["suggestions"]] == [address]  # for an operator to judge
    route = operator_get(channel_server, token, f"/api/operator/conversations/{web}/route")
    assert route["default"]["channel"] == "web" and [o["channel"] for o in route["options"]] == ["web"]
    refused = _post(channel_server, token, f"/api/operator/conversations/{web}/reply",
                    {"text": "hi", "channel": "email"})
    assert refused.status_code == 422 and "no email address" in refused.text


def _post(server: Server, token: str, path: str, body: dict[str, Any]) -> httpx.Response:
    with server.http() as client:
        return client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
