"""The queue's rows follow the operator socket's events in Chromium, against a real engine: a message
in a queued conversation the operator does not own, nor opened, reaches its row (preview, unread
count) as the socket's ``message.created`` while every list fetch is refused; and one written while
the console's socket was down arrives when it reconnects, again with no list to be had."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import Page, Route, WebSocketRoute, expect

from tests.engine.conftest import Server
from tests.operator_ui.conftest import Pages, sign_in

pytestmark = pytest.mark.browser
LISTS = re.compile(r"/api/operator/conversations\?")


def say(server: Server, visitor: dict[str, Any], text: str) -> None:
    with server.http() as http:
        http.post("/api/visitor/messages", headers={"Authorization": f"Bearer {visitor['token']}"},
                  json={"text": text}).raise_for_status()


def refuse_lists(console: Page) -> list[str]:
    """From now on every list fetch (GET /api/operator/conversations?...) fails: whatever a row shows
    next came by the socket. Returns the fetches tried (one may still be on its way from before)."""
    tried: list[str] = []

    def refuse(route: Route) -> None:
        tried.append(route.request.url)
        route.abort()

    console.route(LISTS, refuse)
    return tried


def busy_operator_with_bob_queued(server: Server, console: Page) -> tuple[dict[str, Any], int]:
    """Kim signs in and goes away (so routing gives her nothing); Bob asks for a person and waits in
    her Queue tab, a conversation her socket does not follow by itself."""
    kim = server.new_operator(name="Kim Lee")
    sign_in(console, kim["operator"]["email"])
    expect(console.locator("#connection")).to_have_text("Live")
    with console.expect_response(re.compile(r"/api/operator/presence$")):
        console.locator("#presence").select_option("away")
    bob = server.start_visitor(name="Bob")
    say(server, bob, "Talk to a person")
    console.locator(".tab[data-tab='queued']").click()
    row = console.locator(".row", has_text="Bob")
    expect(row.locator(".unread-count")).to_have_text("1")
    return bob, bob["conversation_id"]


def created_in(conversation_id: int, text: str) -> Any:
    def matches(payload: str | bytes) -> bool:
        frame = json.loads(payload)
        return (frame.get("type") == "message.created" and frame.get("conversation_id") == conversation_id
                and frame["message"]["text"] == text)
    return matches


def test_a_queued_row_shows_a_new_message_from_the_socket_event_not_a_poll(
        server: Server, pages: Pages) -> None:
    console = pages.open(f"{server.base_url}/operator")
    with console.expect_websocket(lambda ws: "/ws/operator" in ws.url) as opened:
        bob, conversation_id = busy_operator_with_bob_queued(server, console)
    socket = opened.value
    row = console.locator(".row", has_text="Bob")
    refuse_lists(console)

    text = "my parcel 7781 never came"
    with socket.expect_event("framereceived", predicate=created_in(conversation_id, text)):
        say(server, bob, text)
    expect(row.locator(".preview")).to_have_text("my parcel 7781 never came")
    expect(row.locator(".unread-count")).to_have_text("2")  # no list could be fetched: the event did it
    # not Kim's conversation: its row changes, with no toast (the event's handler makes both or neither)
    expect(console.locator(".toast", has_text="New message from Bob")).to_have_count(0)


def test_a_message_written_while_the_socket_was_down_reaches_the_row_on_reconnect(
        server: Server, pages: Pages) -> None:
    routes: list[WebSocketRoute] = []
    waiting: dict[str, Any] = {}

    def through(route: WebSocketRoute) -> None:
        if routes:  # the reconnect: Bob writes before it reaches the engine
            say(server, waiting["bob"], "are you still there?")
        routes.append(route)
        route.connect_to_server()

    console = pages.open(f"{server.base_url}/operator")
    console.route_web_socket(re.compile(r".*/ws/operator\?.*"), through)
    waiting["bob"], _ = busy_operator_with_bob_queued(server, console)
    row = console.locator(".row", has_text="Bob")
    refuse_lists(console)

    routes[0].close(code=4000, reason="resync: reconnect with your last seq")
    expect(row.locator(".preview")).to_have_text("are you still there?")
    expect(row.locator(".unread-count")).to_have_text("2")
    assert len(routes) == 2 and "resume=" in routes[1].url  # it resumed; no list could be fetched


def test_a_row_that_left_the_lists_is_unsubscribed(server: Server, pages: Pages) -> None:
    """Bob's row was followed for its preview; a colleague claims him, the lists no longer show him,
    and the console tells the socket to stop following him (``unsubscribe``)."""
    console = pages.open(f"{server.base_url}/operator")
    with console.expect_websocket(lambda ws: "/ws/operator" in ws.url) as opened:
        bob, conversation_id = busy_operator_with_bob_queued(server, console)
    socket = opened.value
    sam = server.new_operator(name="Sam Rivera")

    def unsubscribed(payload: str | bytes) -> bool:
        frame = json.loads(payload)
        return frame.get("type") == "unsubscribe" and frame.get("conversation_id") == conversation_id

    with socket.expect_event("framesent", predicate=unsubscribed), server.http() as http:
        http.post(f"/api/operator/conversations/{conversation_id}/claim",
                  headers={"Authorization": f"Bearer {sam['token']}"}).raise_for_status()
    expect(console.locator(".row", has_text="Bob")).to_have_count(0)
