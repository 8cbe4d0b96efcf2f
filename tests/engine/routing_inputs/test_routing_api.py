"""Routing inputs through the API only: operators made by an admin with their languages and skills,
visitors who write, and routing that follows what the conversation is about and written in.

A German conversation reaches the German-speaking operator; a billing conversation the operator
with the billing skill, its topic read from the whole transcript (the earlier messages too); a
person can correct a conversation's inputs and the queue follows at once.
"""

from __future__ import annotations

import functools
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from engine.service import routing_inputs
from engine.service.bot import Bot
from engine.settings import Settings
from tests.engine.conftest import Server, run_server


@pytest.fixture
def desk(tmp_path: Path, bot: Bot, kb_index: Path) -> Iterator[Server]:
    """An engine of its own: routing sees the whole floor, so no other test's operators."""
    settings = Settings(
        environment="test",
        secret_key=secrets.token_urlsafe(32),
        index_dir=kb_index,
        database_url=f"sqlite:///{tmp_path / 'routing.db'}",
        routing_interval_seconds=0.3,
    )
    yield from run_server(settings, bot)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def operator(http: httpx.Client, admin: dict[str, Any], name: str, skills: list[str]) -> dict[str, Any]:
    """An operator made by the admin through the API, logged in and online."""
    email = f"{name.lower()}-{uuid.uuid4().hex[:6]}@example.com"
    made = http.post(
        "/api/admin/operators",
        headers=bearer(admin["token"]),
        json={"email": email, "name": name, "password": "correct-horse", "skills": skills},
    )
    assert made.status_code == 201, made.text
    login = http.post("/api/operator/login", json={"email": email, "password": "correct-horse"}).json()
    http.post(
        "/api/operator/presence", json={"status": "online"}, headers=bearer(login["token"])
    ).raise_for_status()
    return login


def say(http: httpx.Client, visitor: dict[str, Any], *texts: str) -> None:
    for text in texts:
        http.post(
            "/api/visitor/messages",
            headers=bearer(visitor["token"]),
            json={"text": text, "client_id": uuid.uuid4().hex},
        ).raise_for_status()


def owner(http: httpx.Client, token: str, conversation_id: int) -> tuple[str, int | None, dict[str, Any]]:
    """State, assignee and the handoff packet (with the language and topics routing matched)."""
    detail = http.get(f"/api/operator/conversations/{conversation_id}", headers=bearer(token)).json()
    return detail["conversation"]["state"], detail["conversation"]["assignee_id"], detail["packet"] or {}


def test_a_german_conversation_reaches_the_german_speaking_operator(desk: Server) -> None:
    admin = desk.new_operator(role="admin", name="Ada Admin")
    with desk.http() as http:
        greta = operator(http, admin, "Greta", ["lang:de"])
        english = desk.start_visitor(name="Ann")
        say(http, english, "I want to talk to a person")
        state, assignee, packet = owner(http, admin["token"], english["conversation_id"])
        assert (state, assignee) == ("assigned", greta["operator"]["id"])  # the only one online
        assert packet["detected_language"] == "en" and "language" not in packet  # the desk's own: no need
        sam = operator(http, admin, "Sam", [])  # free, where Greta has one already: he would be next
        german = desk.start_visitor(name="Jonas")
        say(
            http,
            german,
            "Ich möchte bitte mit einem Menschen sprechen, nicht mit einem Bot. I want to talk to a person",
        )
        state, assignee, packet = owner(http, admin["token"], german["conversation_id"])
        assert packet["language"] == "de"
        assert (state, assignee) == ("assigned", greta["operator"]["id"])
        third = desk.start_visitor(name="Bea")
        say(http, third, "I want to talk to a person")
        assert owner(http, admin["token"], third["conversation_id"])[:2] == (
            "assigned",
            sam["operator"]["id"],
        )


def test_a_billing_conversation_reaches_the_billing_skill(desk: Server) -> None:
    admin = desk.new_operator(role="admin", name="Ada Admin")
    with desk.http() as http:
        operator(http, admin, "Sam", [])
        bill = operator(http, admin, "Bill", ["topic:billing"])
        operator(http, admin, "Shay", ["topic:shipping"])
        visitor = desk.start_visitor(name="Ann")
        # the billing question comes first; the message that hands over says nothing of billing
        say(http, visitor, "I was charged twice and need my money back", "I want to talk to a person")
        state, assignee, packet = owner(http, admin["token"], visitor["conversation_id"])
        assert "billing" in packet["topics"], packet["topics"]
        assert (state, assignee) == ("assigned", bill["operator"]["id"])


def test_routing_inputs_set_through_the_api(desk: Server) -> None:
    admin = desk.new_operator(role="admin", name="Ada Admin")
    with desk.http() as http:
        visitor = desk.start_visitor(name="Ann")
        say(http, visitor, "I want to talk to a person")
        conversation = visitor["conversation_id"]
        path = f"/api/operator/conversations/{conversation}/routing"
        set_de = http.post(path, headers=bearer(admin["token"]), json={"language": "de", "region": "EU"})
        assert set_de.status_code == 200, set_de.text
        assert {"lang:de", "region:eu"} <= set(set_de.json()["skills"]) and set_de.json()["state"] == "queued"
        sam = operator(http, admin, "Sam", [])
        assert owner(http, admin["token"], conversation)[:2] == ("queued", None)  # Sam reads no German
        greta = operator(http, admin, "Greta", ["lang:de"])
        assert owner(http, admin["token"], conversation)[:2] == ("assigned", greta["operator"]["id"])
        cleared = http.post(
            path, headers=bearer(admin["token"]), json={"language": "", "topics": ["billing"]}
        )
        assert not any(s.startswith("lang:") for s in cleared.json()["skills"])
        assert "topic:billing" in cleared.json()["skills"] and "region:eu" in cleared.json()["skills"]
        for bad, field in (
            ({"language": "German"}, "language"),
            ({"topics": ["<b>"]}, "topics"),
            ({"colour": "red"}, "colour"),
        ):
            refused = http.post(path, headers=bearer(sam["token"]), json=bad)
            assert refused.status_code == 422 and field in refused.text, refused.text
        assert (
            http.post(
                "/api/operator/conversations/999999/routing",
                headers=bearer(sam["token"]),
                json={"language": "de"},
            ).status_code
            == 404
        )


def test_language_detection_offline() -> None:
    assert routing_inputs.detect_language(["Meine Rechnung ist falsch, bitte helfen Sie mir"], "en") == "de"
    assert routing_inputs.detect_language(["Where is my parcel? It was due on Monday."], "en") == "en"
    assert routing_inputs.detect_language(["Je voudrais parler à quelqu'un, s'il vous plaît"], "en") == "fr"
    assert routing_inputs.detect_language(["ok"], "en") is None  # too little to tell


def test_inputs_replace_only_what_is_given() -> None:
    base = ["channel:web", "lang:fr", "topic:shipping"]
    replaced = functools.partial(routing_inputs.with_inputs, base, desk_language="en")
    assert replaced(topics=["Billing"]) == ["channel:web", "lang:fr", "topic:billing"]
    assert replaced(language="en") == ["channel:web", "topic:shipping"]
    assert replaced(language="pt-BR", region="LATAM") == [
        "channel:web",
        "lang:pt",
        "region:latam",
        "topic:shipping",
    ]


def test_the_desk_language_is_a_setting() -> None:
    """A German desk: German is nobody's requirement, English becomes one; an unknown code is refused."""
    base = ["channel:web"]
    assert routing_inputs.with_inputs(base, desk_language="de", language="de") == ["channel:web"]
    assert routing_inputs.with_inputs(base, desk_language="de", language="en") == ["channel:web", "lang:en"]
    assert Settings(desk_language="de").desk_language == "de"
    with pytest.raises(ValidationError, match="desk_language"):
        Settings(desk_language="klingon")
