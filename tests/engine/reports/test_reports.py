"""Report figures against values worked out by hand on a seeded history with explicit timestamps,
in SQLite and PostgreSQL (the ``database_url`` fixture runs both), the drill-down and the CSV behind
them, and first-contact resolution for a web visitor who comes back with the same email: once on
the seeded history and once through the API as it happens (resolve, then a new chat seconds later).

The window is the first week of February 2025: rows other tests write never fall in it.
"""

from __future__ import annotations

import csv
import io
import secrets
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from engine.db import create_all, make_engine, session_scope
from engine.models import Contact, Conversation, HandoffEvent, Operator, Transition
from engine.service import reports
from engine.service.bot import Bot
from engine.settings import Settings
from tests.engine.conftest import Server, run_server

START = datetime(2025, 2, 3, tzinfo=UTC)
END = datetime(2025, 2, 10, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2025, 2, day, hour, minute, second, tzinfo=UTC)


def seed(session: Session) -> dict[str, int]:
    tag = uuid.uuid4().hex[:8]
    ada = Operator(email=f"ada-{tag}@example.com", name="Ada", password_hash="x")
    bo = Operator(email=f"bo-{tag}@example.com", name="Bo", password_hash="x")
    ann = Contact(name="Ann", email=f"ann-{tag}@example.com")
    ann_again = Contact(
        name="Ann", email=f"ANN-{tag}@example.com"
    )  # typed again in a new chat: a new contact
    bob, cy, dee = Contact(name="Bob"), Contact(name="Cy"), Contact(name="Dee")
    session.add_all([ada, bo, ann, ann_again, bob, cy, dee])
    session.flush()

    def conversation(
        contact: Contact, created: datetime, moves: list[tuple[str, str, datetime]], **fields: object
    ) -> Conversation:
        row = Conversation(
            contact_id=contact.id,
            created_at=created,
            token_hash=uuid.uuid4().hex,
            state=moves[-1][1] if moves else "bot",
            **fields,
        )
        session.add(row)
        session.flush()
        session.add_all(
            [
                Transition(conversation_id=row.id, from_state=a, to_state=b, actor="test", created_at=w)
                for a, b, w in moves
            ]
        )
        return row

    # 1: billing; queued 09:01, Ada answers 120 s later, resolved after 1200 s; rated 5
    one = conversation(
        ann,
        at(3, 9),
        [
            ("bot", "queued", at(3, 9, 1)),
            ("queued", "assigned", at(3, 9, 2)),
            ("assigned", "resolved", at(3, 9, 20)),
        ],
        tags=["billing"],
        skills=["topic:billing"],
        queued_at=at(3, 9, 1),
        assigned_at=at(3, 9, 2),
        first_human_response_at=at(3, 9, 3),
        resolved_at=at(3, 9, 20),
        assignee_id=ada.id,
        csat_score=5,
    )
    # 2: Ann again, 30 s after 1 was resolved, same email in another case; the bot resolves it
    two = conversation(
        ann_again,
        at(3, 9, 20, 30),
        [("bot", "resolved", at(3, 9, 25, 30))],
        tags=["billing"],
        resolved_at=at(3, 9, 25, 30),
    )
    # 3: shipping, topic from the packet; Bo answers 300 s after the handoff, resolved after 1800 s; rated 2
    three = conversation(
        bob,
        at(4, 14),
        [
            ("bot", "queued", at(4, 14, 0, 30)),
            ("queued", "assigned", at(4, 14, 1)),
            ("assigned", "resolved", at(4, 14, 30)),
        ],
        tags=["shipping"],
        queued_at=at(4, 14, 0, 30),
        assigned_at=at(4, 14, 1),
        first_human_response_at=at(4, 14, 5, 30),
        resolved_at=at(4, 14, 30),
        assignee_id=bo.id,
        csat_score=2,
    )
    session.add(
        HandoffEvent(
            conversation_id=three.id,
            action="escalate",
            reasons=["low_confidence"],
            packet={"topics": ["delivery"]},
            created_at=at(4, 14, 0, 30),
        )
    )
    # 4: billing and refund; Ada answers 60 s after the handoff; still open
    four = conversation(
        cy,
        at(4, 14, 40),
        [("bot", "queued", at(4, 14, 41)), ("queued", "assigned", at(4, 14, 41, 30))],
        tags=["billing", "refund"],
        skills=["topic:billing", "topic:refunds", "lang:en"],
        queued_at=at(4, 14, 41),
        assigned_at=at(4, 14, 41, 30),
        first_human_response_at=at(4, 14, 42),
        assignee_id=ada.id,
    )
    # 5: still with the bot at 22:15; a tag a spreadsheet would take for a formula
    five = conversation(dee, at(5, 22, 15), [], tags=["=cmd"])
    return {
        "ada": ada.id,
        "bo": bo.id,
        "one": one.id,
        "two": two.id,
        "three": three.id,
        "four": four.id,
        "five": five.id,
    }


@pytest.fixture(scope="module")
def seeded(database_url: str) -> dict[str, int]:
    engine = make_engine(database_url)
    create_all(engine)
    with session_scope(engine) as session:
        ids = seed(session)
    engine.dispose()
    return ids


@pytest.fixture(scope="module")
def session(database_url: str, seeded: dict[str, int]) -> Iterator[Session]:
    engine = make_engine(database_url, readonly=True)  # reads beside the server's writes
    with Session(engine) as s:
        yield s
    engine.dispose()


@pytest.fixture(scope="module")
def computed(session: Session) -> reports.Report:
    return reports.report(session, START, END, UTC)


def by_key(rows: list[reports.Breakdown]) -> dict[str, reports.Breakdown]:
    return {r.key: r for r in rows}


def test_times_by_tag(computed: reports.Report) -> None:
    assert [r.key for r in computed.by_tag] == ["billing", "=cmd", "refund", "shipping"]  # most first
    billing = by_key(computed.by_tag)["billing"]
    # conversations 1, 2, 4: first responses 120 and 60 s, resolutions 1200 and 300 s, one rating (5)
    assert billing.conversations == 3
    assert (billing.first_response.count, billing.first_response.mean, billing.first_response.median) == (
        2,
        90,
        90,
    )
    assert (billing.resolution.count, billing.resolution.median) == (2, 750)
    assert (billing.csat.count, billing.csat.mean) == (1, 5)
    shipping = by_key(computed.by_tag)["shipping"]
    assert (shipping.first_response.median, shipping.resolution.median, shipping.csat.mean) == (300, 1800, 2)
    refund = by_key(computed.by_tag)["refund"]
    assert (refund.first_response.median, refund.resolution.count) == (60, 0)


def test_times_by_topic(computed: reports.Report) -> None:
    # topics: 1 billing (its skills), 3 delivery (the packet), 4 billing and refunds; 2 and 5 none
    topics = by_key(computed.by_topic)
    assert [r.key for r in computed.by_topic] == ["billing", "delivery", "refunds"]
    assert (topics["billing"].conversations, topics["billing"].first_response.mean) == (2, 90)
    assert topics["billing"].resolution.median == 1200
    assert topics["delivery"].first_response.median == 300


def test_csat_and_times_per_operator(computed: reports.Report, seeded: dict[str, int]) -> None:
    assert [(o.operator_id, o.key, o.conversations) for o in computed.per_operator] == [
        (seeded["ada"], "Ada", 2),
        (seeded["bo"], "Bo", 1),
    ]
    ada, bo = computed.per_operator
    assert (ada.first_response.median, ada.resolution.median, ada.csat.mean, ada.csat.satisfied_share) == (
        90,
        1200,
        5,
        1.0,
    )
    assert (bo.first_response.median, bo.resolution.median, bo.csat.mean, bo.csat.satisfied_share) == (
        300,
        1800,
        2,
        0.0,
    )


def test_arrivals_by_hour_in_the_time_zone(computed: reports.Report, session: Session) -> None:
    assert computed.conversations == 5
    assert {h: n for h, n in enumerate(computed.arrivals_by_hour) if n} == {9: 2, 14: 2, 22: 1}
    assert {h: n for h, n in enumerate(computed.handoffs_by_hour) if n} == {9: 1, 14: 2}
    berlin = reports.report(session, START, END, ZoneInfo("Europe/Berlin"))  # UTC+1 in February
    assert {h: n for h, n in enumerate(berlin.arrivals_by_hour) if n} == {10: 2, 15: 2, 23: 1}


def test_containment_and_first_contact_resolution(computed: reports.Report) -> None:
    assert computed.bot_containment.model_dump() == {"count": 1, "total": 5, "rate": 0.2}  # only 2
    # resolved: 1, 2, 3. Ann came back 30 s after 1 with the same email (another contact): 1 fails.
    assert computed.first_contact_resolution.model_dump() == {
        "count": 2,
        "total": 3,
        "rate": pytest.approx(2 / 3),
    }


def test_drill_down_lists_the_conversations_behind_a_figure(session: Session, seeded: dict[str, int]) -> None:
    def ids(**which: object) -> list[int]:
        return [r.id for r in reports.conversations(session, START, END, UTC, reports.Filter(**which))]

    assert ids(tag="billing") == [seeded["one"], seeded["two"], seeded["four"]]
    assert ids(topic="delivery") == [seeded["three"]]
    assert ids(hour=14) == [seeded["three"], seeded["four"]]
    assert ids(operator_id=seeded["ada"]) == [seeded["one"], seeded["four"]]
    assert ids(contained=True) == [seeded["two"]]
    assert ids(handed_off=True, hour=9) == [seeded["one"]]
    row = reports.conversations(session, START, END, UTC, reports.Filter(topic="delivery"))[0]
    assert (row.operator, row.first_response_seconds, row.resolution_seconds, row.csat_score) == (
        "Bo",
        300,
        1800,
        2,
    )


def test_csv_export(session: Session, seeded: dict[str, int]) -> None:
    rows = reports.conversations(session, START, END, UTC, reports.Filter())
    table = list(csv.DictReader(io.StringIO(reports.to_csv(rows))))
    assert [int(r["id"]) for r in table] == [seeded[k] for k in ("one", "two", "three", "four", "five")]
    four = table[3]
    assert (four["tags"], four["topics"], four["operator"], four["first_response_seconds"]) == (
        "billing;refund",
        "billing;refunds",
        "Ada",
        "60.0",
    )
    assert four["resolution_seconds"] == "" and four["state"] == "assigned"
    assert table[4]["tags"] == "'=cmd"  # never run as a formula


def test_report_routes(server: Server, seeded: dict[str, int]) -> None:
    lead = server.new_operator(role="supervisor")
    agent = server.new_operator()
    window = {"start": START.isoformat(), "end": END.isoformat()}
    auth = {"Authorization": f"Bearer {lead['token']}"}
    with server.http() as http:
        body = http.get("/api/reports", params=window, headers=auth).json()
        assert body["conversations"] == 5 and body["first_contact_resolution"]["count"] == 2
        listed = http.get("/api/reports/conversations", params={**window, "tag": "shipping"}, headers=auth)
        assert [r["id"] for r in listed.json()] == [seeded["three"]]
        exported = http.get("/api/reports/conversations.csv", params={**window, "hour": 14}, headers=auth)
        assert exported.headers["content-type"].startswith("text/csv")
        assert "attachment" in exported.headers["content-disposition"]
        assert [int(r["id"]) for r in csv.DictReader(io.StringIO(exported.text))] == [
            seeded["three"],
            seeded["four"],
        ]
        assert (
            http.get("/api/reports", headers={"Authorization": f"Bearer {agent['token']}"}).status_code == 403
        )
        for bad, named in (
            ({"hour": "25"}, "hour"),
            ({"tz": "Nowhere/City"}, "tz"),
            ({"start": "soon"}, "start"),
            ({"operator_id": "-1"}, "operator_id"),
        ):
            answer = http.get("/api/reports/conversations", params={**window, **bad}, headers=auth)
            assert answer.status_code == 422 and named in answer.text, answer.text


@pytest.fixture
def fresh_server(tmp_path: Path, bot: Bot, kb_index: Path) -> Iterator[Server]:
    """An engine of its own, so that the metrics count only this test's conversations."""
    settings = Settings(
        environment="test",
        secret_key=secrets.token_urlsafe(32),
        index_dir=kb_index,
        database_url=f"sqlite:///{tmp_path / 'fcr.db'}",
    )
    yield from run_server(settings, bot)


def test_a_web_visitor_back_with_the_same_email_seconds_later_is_not_first_contact(
    fresh_server: Server,
) -> None:
    server = fresh_server
    sam = server.new_operator(role="admin", name="Sam")
    auth = {"Authorization": f"Bearer {sam['token']}"}
    first = server.start_visitor(name="Ann", email="ann@example.com")
    with server.http() as http:
        http.post(
            "/api/visitor/messages",
            json={"text": "I want to talk to a person", "client_id": "a1"},
            headers={"Authorization": f"Bearer {first['token']}"},
        ).raise_for_status()
        conversation = first["conversation_id"]
        http.post(f"/api/operator/conversations/{conversation}/claim", headers=auth)
        http.post(
            f"/api/operator/conversations/{conversation}/reply",
            json={"text": "Hello Ann", "client_id": "r1"},
            headers=auth,
        ).raise_for_status()
        http.post(f"/api/operator/conversations/{conversation}/resolve", headers=auth).raise_for_status()
        alone = http.get("/api/metrics", headers=auth).json()["first_contact_resolution"]
        assert (alone["count"], alone["total"]) == (1, 1)
        server.start_visitor(name="Ann", email="Ann@Example.com")  # back seconds later, in a new chat
        after = http.get("/api/metrics", headers=auth).json()["first_contact_resolution"]
        assert (after["count"], after["total"]) == (0, 1)
        report = http.get("/api/reports", headers=auth).json()["first_contact_resolution"]
        assert (report["count"], report["total"]) == (0, 1)


def test_the_same_person_in_bulk_agrees_with_the_contact_context(session: Session) -> None:
    from engine.models import Contact
    from engine.service.context import related_contacts
    from engine.service.metrics import same_people

    contacts = session.exec(select(Contact)).all()
    bulk = same_people(session, {c.id for c in contacts})
    assert bulk == {c.id: related_contacts(session, c) for c in contacts}
    assert any(len(people) > 1 for people in bulk.values())  # Ann's two contacts
