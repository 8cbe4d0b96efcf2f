"""Files between a web visitor and an operator against a real server, on SQLite and PostgreSQL:
uploads over REST, messages over the real WebSockets, downloads authorised like messages."""

from __future__ import annotations

import io
import json
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

import httpx
from PIL import Image

from engine.files import links
from tests.engine.attachments import files
from tests.engine.conftest import Server, receive_json, receive_until

VISITOR_UPLOAD = "/api/visitor/attachments"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def upload(client: httpx.Client, path: str, token: str, name: str, data: bytes,
           declared: str = "application/octet-stream") -> httpx.Response:
    return client.post(path, files={"file": (name, data, declared)}, headers=auth(token))


def detail(response: httpx.Response) -> str:
    body = response.json()["detail"]
    return body if isinstance(body, str) else body[0]["msg"]


def test_a_screenshot_from_the_visitor_reaches_the_operator_and_a_pdf_goes_back(server: Server) -> None:
    conversation = server.start_visitor(name="Ann")
    operator = server.new_operator(name="Alex")
    conversation_id, token = conversation["conversation_id"], conversation["token"]
    shot = files.screenshot()
    with server.http() as http, server.visitor_socket(token) as visitor, \
            server.operator_socket(operator["token"]) as desk:
        assert receive_json(desk)["type"] == "hello"
        desk.send(json.dumps({"type": "subscribe", "conversation_id": conversation_id, "after": 0}))
        receive_json(visitor)  # state
        uploaded = upload(http, "/api/visitor/attachments", token, "screenshot.png", shot, "image/png")
        assert uploaded.status_code == 201, uploaded.text
        meta = uploaded.json()
        assert meta["content_type"] == "image/png" and meta["category"] == "image"
        assert (meta["width"], meta["height"], meta["size"]) == (1200, 800, len(shot))
        assert meta["thumbnail"] is True

        visitor.send(json.dumps({"type": "message", "text": "this is what I see", "client_id": "v-1",
                                 "attachment_ids": [meta["id"]]}))
        receive_until(visitor, lambda f: f["type"] == "ack" and f["client_id"] == "v-1")
        frames = receive_until(desk, lambda f: f["type"] == "message.created"
                               and f["message"]["role"] == "visitor" and f["message"]["attachments"])
        seen = frames[-1]["message"]
        assert seen["text"] == "this is what I see"
        assert seen["attachments"] == [meta]

        original = http.get(f"/api/operator/attachments/{meta['id']}", headers=auth(operator["token"]))
        assert original.status_code == 200 and original.content == shot
        assert original.headers["content-type"] == "image/png"
        assert original.headers["x-content-type-options"] == "nosniff"
        assert original.headers["content-disposition"].startswith("inline;")
        thumb = http.get(f"/api/operator/attachments/{meta['id']}/thumbnail", headers=auth(operator["token"]))
        assert thumb.status_code == 200
        assert max(Image.open(io.BytesIO(thumb.content)).size) == 320 and len(thumb.content) < len(shot)

        invoice = files.pdf()
        sent = upload(http, f"/api/operator/conversations/{conversation_id}/attachments", operator["token"],
                      "invoice-1234.pdf", invoice)
        assert sent.status_code == 201 and sent.json()["content_type"] == "application/pdf"
        # before it is sent on a reply, the visitor cannot read it
        early = http.get(f"/api/visitor/attachments/{sent.json()['id']}", headers=auth(token))
        assert early.status_code == 404
        reply = http.post(f"/api/operator/conversations/{conversation_id}/reply",
                          headers=auth(operator["token"]),
                          json={"text": "Here is your invoice", "client_id": "op-1",
                                "attachment_ids": [sent.json()["id"]]})
        assert reply.status_code == 200, reply.text
        got = receive_until(visitor, lambda f: f["type"] == "message" and f["message"]["role"] == "operator")
        message = got[-1]["message"]
        assert message["text"] == "Here is your invoice"
        assert [a["filename"] for a in message["attachments"]] == ["invoice-1234.pdf"]
        mine = http.get(f"/api/visitor/attachments/{sent.json()['id']}", headers=auth(token))
        assert mine.status_code == 200 and mine.content == invoice
        assert mine.headers["content-disposition"].startswith("inline;")

        history = http.get("/api/visitor/messages", headers=auth(token)).json()["messages"]
        assert [m["attachments"][0]["filename"] for m in history if m["attachments"]] == \
            ["screenshot.png", "invoice-1234.pdf"]


def test_a_file_without_words_is_stored_and_the_bot_says_nothing(server: Server) -> None:
    conversation = server.start_visitor()
    token = conversation["token"]
    with server.http() as http:
        meta = upload(http, "/api/visitor/attachments", token, "IMG_0001.JPG", files.photo()).json()
        sent = http.post("/api/visitor/messages", headers=auth(token),
                         json={"text": "", "client_id": uuid.uuid4().hex, "attachment_ids": [meta["id"]]})
        assert sent.status_code == 200, sent.text
        assert sent.json()["message"]["attachments"][0]["content_type"] == "image/jpeg"
        assert sent.json()["replies"] == []  # the bot answers words, not files
        empty = http.post("/api/visitor/messages", headers=auth(token), json={"text": " ", "client_id": "x"})
        assert empty.status_code == 422 and "text is empty" in detail(empty)


def test_a_disguised_or_oversized_file_is_refused_with_what_is_wrong(server: Server) -> None:
    token = server.start_visitor()["token"]
    with server.http() as http:
        disguised = upload(http, VISITOR_UPLOAD, token, "cute-cat.png", files.executable(), "image/png")
        assert disguised.status_code == 415
        assert "cute-cat.png is an executable (ELF), which is not accepted" in detail(disguised)

        renamed = upload(http, "/api/visitor/attachments", token, "receipt.png", files.pdf())
        assert renamed.status_code == 415
        assert "receipt.png is named as a .png file but its bytes are a PDF document" in detail(renamed)

        big = upload(http, VISITOR_UPLOAD, token, "huge.png", files.oversized_png(11 * 1024 * 1024))
        assert big.status_code == 413
        assert detail(big) == "huge.png is 11.0 MiB; an image may be at most 10 MiB"

        garbage = upload(http, "/api/visitor/attachments", token, "broken.png", files.oversized_png(2000))
        assert garbage.status_code == 422 and "broken.png is not a readable image" in detail(garbage)

        over_body = upload(http, "/api/visitor/attachments", token, "film.mp4", b"\0" * (27 * 1024 * 1024))
        assert over_body.status_code == 413 and "request body is" in detail(over_body)

        empty = upload(http, "/api/visitor/attachments", token, "nothing.txt", b"")
        assert empty.status_code == 422 and "nothing.txt is empty" in detail(empty)

        text = upload(http, "/api/visitor/attachments", token, "../../etc/notes.txt", "Grüße\n".encode())
        assert text.status_code == 201 and text.json()["filename"] == "notes.txt"
        assert text.json()["content_type"] == "text/plain"


def test_a_visitor_reads_only_their_own_conversations_public_files(server: Server) -> None:
    ann, bob = server.start_visitor(name="Ann"), server.start_visitor(name="Bob")
    operator = server.new_operator()
    with server.http() as http:
        meta = upload(http, "/api/visitor/attachments", ann["token"], "passport.jpg", files.photo()).json()
        sent = http.post("/api/visitor/messages", headers=auth(ann["token"]),
                         json={"text": "my id", "client_id": "a-1", "attachment_ids": [meta["id"]]})
        assert sent.status_code == 200
        own = f"/api/visitor/attachments/{meta['id']}"
        assert http.get(own, headers=auth(ann["token"])).status_code == 200
        for path in (own, f"{own}/thumbnail"):
            stolen = http.get(path, headers=auth(bob["token"]))
            assert stolen.status_code == 404 and stolen.content != files.photo()
            assert http.get(path).status_code == 401
        # nor send it on a message of theirs
        reuse = http.post("/api/visitor/messages", headers=auth(bob["token"]),
                          json={"text": "look", "client_id": "b-1", "attachment_ids": [meta["id"]]})
        assert reuse.status_code == 422
        assert f"attachment {meta['id']} is not a file you uploaded to this conversation" in detail(reuse)

        # an operator's note with a file: internal, never the visitor's
        path = f"/api/operator/conversations/{ann['conversation_id']}"
        internal = upload(http, f"{path}/attachments", operator["token"], "check.pdf", files.pdf()).json()
        note = http.post(f"{path}/note", headers=auth(operator["token"]),
                         json={"text": "ID checked", "attachment_ids": [internal["id"]]})
        assert note.status_code == 200 and note.json()["visibility"] == "internal"
        hidden = http.get(f"/api/visitor/attachments/{internal['id']}", headers=auth(ann["token"]))
        assert hidden.status_code == 404
        seen = http.get("/api/visitor/messages", headers=auth(ann["token"])).json()["messages"]
        assert all(a["id"] != internal["id"] for m in seen for a in m["attachments"])
        again = http.post(f"{path}/reply", headers=auth(operator["token"]),
                          json={"text": "re-send", "attachment_ids": [internal["id"]]})
        assert again.status_code == 422 and "was already sent on message" in detail(again)
        assert http.get(f"/api/operator/attachments/{internal['id']}",
                        headers=auth(operator["token"])).content == files.pdf()


def test_a_signed_link_works_until_it_expires(server: Server) -> None:
    conversation = server.start_visitor()
    secret = server.settings.secret_key
    with server.http() as http:
        meta = upload(http, VISITOR_UPLOAD, conversation["token"], "a.png", files.screenshot()).json()
        unsent = links.make(server.base_url, secret, meta["id"], "a.png", 60)
        assert http.get(_path(unsent)).status_code == 404  # only files sent on a public message are linked
        http.post("/api/visitor/messages", headers=auth(conversation["token"]),
                  json={"text": "", "client_id": "l-1", "attachment_ids": [meta["id"]]}).raise_for_status()
        good = links.make(server.base_url, secret, meta["id"], "a.png", 60)
        assert http.get(_path(good)).status_code == 200
        flipped = _path(good)[:-1] + ("0" if _path(good)[-1] != "0" else "1")
        assert http.get(flipped).status_code == 403  # a signature, but not this link's
        assert http.get(_path(good) + "zz").status_code == 422  # not a signature at all
        other = links.make(server.base_url, secret, meta["id"] + 1, "a.png", 60)
        forged = _path(good).replace(f"/files/{meta['id']}/", f"/files/{meta['id'] + 1}/")
        assert other != forged and http.get(forged).status_code == 403
        expired = links.make(server.base_url, secret, meta["id"], "a.png", 60, now=time.time() - 120)
        answer = http.get(_path(expired))
        assert answer.status_code == 403 and "expired" in answer.json()["detail"]


def _path(url: str) -> Any:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"
