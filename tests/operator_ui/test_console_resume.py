"""The console's socket resumes from its last event ids (Chromium, a real engine).

The page's operator socket goes through Playwright's WebSocket route, which forwards it to the
engine and lets the test drop it. What happens while it is down (the operator's status changed
from another tab) reaches the console only through the engine's replay: on reconnect the console
reads nothing over REST but its lists.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import WebSocketRoute, expect

from tests.engine.conftest import Server
from tests.operator_ui.conftest import Pages, sign_in


def test_a_dropped_console_socket_reconnects_with_its_last_ids_and_gets_what_it_missed(
        server: Server, pages: Pages) -> None:
    kim = server.new_operator(name="Kim Lee")
    routes: list[WebSocketRoute] = []

    def presence(status: str) -> None:
        with server.http() as http:
            http.post("/api/operator/presence", json={"status": status},
                      headers={"Authorization": f"Bearer {kim['token']}"}).raise_for_status()

    def through(route: WebSocketRoute) -> None:
        if routes:  # a reconnect: Kim's other tab puts her back online before it reaches the engine
            presence("online")
        routes.append(route)
        route.connect_to_server()

    console = pages.open(f"{server.base_url}/operator")
    console.route_web_socket(re.compile(r".*/ws/operator\?.*"), through)
    sign_in(console, kim["operator"]["email"])
    expect(console.locator("#connection")).to_have_text("Live")
    presence("away")  # an event after the socket's hello: the console has ids to resume from
    expect(console.locator("#presence")).to_have_value("away")

    routes[0].close(code=4000, reason="resync: reconnect with your last seq")
    expect(console.locator("#presence")).to_have_value("online")  # only the replay says so
    expect(console.locator("#connection")).to_have_text("Live")

    assert len(routes) == 2
    assert "resume" not in parse_qs(urlparse(routes[0].url).query)
    resumed = json.loads(parse_qs(urlparse(routes[1].url).query)["resume"][0])
    assert resumed["operators"] > 0 and f"operator:{kim['operator']['id']}" in resumed
