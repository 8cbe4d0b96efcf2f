"""Every metric against values computed by hand on a seeded history with explicit timestamps,
written into a real database: SQLite and PostgreSQL (the ``database_url`` fixture runs both).

The window is a week in January 2025, so rows other tests create (stamped now) never fall in it.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session

from engine.db import create_all, make_engine, session_scope
from engine.models import Contact, Conversation, Draft, HandoffEvent, Message, Operator, Transition
from engine.service import drafts, metrics
from knowledge.errors import InputError

START = datetime(2025, 1, 6, tzinfo=UTC)
END = datetime(2025, 1, 13, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2025, 1, day, hour, minute, second, tzinfo=UTC)


class History:
    """Writes conversations with their transitions exactly as the service would have."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.tag = uuid.uuid4().hex[:8]

    def contact(self) -> Contact:
        row = Contact(name=f"contact-{self.tag}")
        self.session.add(row)
        self.session.flush()
        return row

    def operator(self, name: str) -> Operator:
        row = Operator(email=f"{name}-{self.tag}@example.com", name=name, password_hash="x")
        self.session.add(row)
        self.session.flush()
        return row

    def conversation(self, contact: Contact, created: datetime, moves: list[tuple[str, str, datetime]],
                     **fields: Any) -> Conversation:
        row = Conversation(contact_id=contact.id, created_at=created, token_hash=uuid.uuid4().hex,
                           state=moves[-1][1] if moves else "bot", **fields)
        self.session.add(row)
        self.session.flush()
        for from_state, to_state, when in moves:
            self.session.add(Transition(conversation_id=row.id, from_state=from_state, to_state=to_state,
                                        actor="test", created_at=when))
        return row

    def message(self, conversation: Conversation, seq: int, role: str, when: datetime) -> Message:
        row = Message(conversation_id=conversation.id, seq=seq, role=role, text=f"{role} {seq}",
                      created_at=when)
        self.session.add(row)
        self.session.flush()
        return row

    def decision(self, conversation: Conversation, action: str, reasons: list[str], when: datetime) -> None:
        self.session.add(HandoffEvent(conversation_id=conversation.id, action=action, reasons=reasons,
                                      created_at=when))

    def draft(self, message: Message, kind: str, when: datetime, used: Message | None = None,
              edit_ratio: float | None = None) -> None:
        """``used``: the reply that started from the draft; it counts as used when close enough."""
        self.session.add(Draft(conversation_id=message.conversation_id, message_id=message.id, kind=kind,
                               text="draft", created_at=when, used_message_id=used.id if used else None,
                               edit_ratio=edit_ratio, used=edit_ratio is not None
                               and edit_ratio <= drafts.USED_MAX_EDIT_RATIO))


def seed(session: Session) -> dict[str, int]:
    h = History(session)
    sam, kim = h.operator("Sam"), h.operator("Kim")
    c1, c2, c3, c4, c5, c6 = (h.contact() for _ in range(6))
    # 1: the bot resolves it; rated 5
    one = h.conversation(c1, at(6, 10), [("bot", "resolved", at(6, 10, 5))], resolved_at=at(6, 10, 5),
                         csat_score=5)
    h.decision(one, "continue", [], at(6, 10, 1))
    # 2: escalated (explicit request, frustration), Sam answers after 180 s, resolved after 1200 s; rated 4
    two = h.conversation(c2, at(6, 11), [("bot", "queued", at(6, 11, 1)),
                                         ("queued", "assigned", at(6, 11, 3)),
                                         ("assigned", "resolved", at(6, 11, 20))],
                         queued_at=at(6, 11, 1), assigned_at=at(6, 11, 3),
                         first_human_response_at=at(6, 11, 4), resolved_at=at(6, 11, 20), assignee_id=sam.id,
                         csat_score=4)
    h.decision(two, "escalate", ["explicit_request", "frustration"], at(6, 11, 1))
    asked = h.message(two, 1, "visitor", at(6, 11, 0, 30))
    sent = h.message(two, 2, "operator", at(6, 11, 4))
    h.draft(asked, "answer", at(6, 11, 1, 5), used=sent, edit_ratio=0.1)
    h.draft(asked, "canned", at(6, 11, 1, 5))
    h.draft(asked, "continuation", at(6, 11, 1, 5))
    # 3: escalated (low confidence), Kim answers after 300 s, resolved after 2400 s; rated 2
    three = h.conversation(c3, at(7, 9), [("bot", "queued", at(7, 9, 0, 30)),
                                          ("queued", "assigned", at(7, 9, 2)),
                                          ("assigned", "resolved", at(7, 9, 40))],
                           queued_at=at(7, 9, 0, 30), assigned_at=at(7, 9, 2),
                           first_human_response_at=at(7, 9, 5, 30), resolved_at=at(7, 9, 40),
                           assignee_id=kim.id, csat_score=2)
    h.decision(three, "escalate", ["low_confidence"], at(7, 9, 0, 30))
    asked = h.message(three, 1, "visitor", at(7, 9, 0, 10))
    sent = h.message(three, 2, "operator", at(7, 9, 5, 30))
    h.draft(asked, "answer", at(7, 9, 1), used=sent, edit_ratio=0.4)
    rewritten = h.message(three, 3, "operator", at(7, 9, 6))
    h.draft(asked, "continuation", at(7, 9, 1), used=rewritten, edit_ratio=0.8)  # started from, rewritten
    # 4: contact 2 again within 7 days of 2; the bot resolves it, reopened within 72 h, resolved again
    h.conversation(c2, at(9, 14), [("bot", "resolved", at(9, 14, 2)), ("resolved", "bot", at(10, 10)),
                                   ("bot", "resolved", at(10, 10, 5))],
                   resolved_at=at(10, 10, 5), reopened_at=at(10, 10))
    # 5: the bot resolves it; reopened only after 96 hours, so still contained; rated 3
    h.conversation(c4, at(7, 12), [("bot", "resolved", at(7, 12, 3)), ("resolved", "bot", at(11, 12, 30)),
                                   ("bot", "resolved", at(11, 12, 31))],
                   resolved_at=at(11, 12, 31), reopened_at=at(11, 12, 30), csat_score=3)
    # 6: escalated (explicit request), Sam answers after 720 s, still open
    six = h.conversation(c5, at(8, 7, 59), [("bot", "queued", at(8, 8)),
                                            ("queued", "assigned", at(8, 8, 10))],
                         queued_at=at(8, 8), assigned_at=at(8, 8, 10), first_human_response_at=at(8, 8, 12),
                         assignee_id=sam.id)
    h.decision(six, "escalate", ["explicit_request"], at(8, 8))
    # 7: still with the bot, which offered a person
    seven = h.conversation(c6, at(12, 9), [])
    h.decision(seven, "offer", ["low_confidence"], at(12, 9, 1))
    # 8: escalated (frustration), Sam answers after 60 s, then transfers it to a team: queued again
    eight = h.conversation(c6, at(12, 15), [("bot", "queued", at(12, 15, 1)),
                                            ("queued", "assigned", at(12, 15, 1, 30)),
                                            ("assigned", "queued", at(12, 15, 10))],
                           queued_at=at(12, 15, 10), assigned_at=at(12, 15, 1, 30),
                           first_human_response_at=at(12, 15, 2))
    h.decision(eight, "escalate", ["frustration"], at(12, 15, 1))
    # outside the window: contact 1 comes back 14 days later; contact 5 wrote just before the window
    h.conversation(c1, at(20, 9), [])
    h.conversation(c5, at(5, 23, 59), [])
    return {"sam": sam.id, "kim": kim.id}


@pytest.fixture(scope="module")
def seeded(database_url: str) -> tuple[str, dict[str, int]]:
    engine = make_engine(database_url)
    create_all(engine)
    with session_scope(engine) as session:
        ids = seed(session)
    engine.dispose()
    return database_url, ids


@pytest.fixture(scope="module")
def computed(seeded: tuple[str, dict[str, int]]) -> metrics.Metrics:
    engine = make_engine(seeded[0])
    with Session(engine) as session:
        result = metrics.compute(session, START, END)
    engine.dispose()
    return result


def test_counts_only_conversations_created_in_the_window(computed: metrics.Metrics) -> None:
    assert computed.conversations == 8


def test_first_response_time(computed: metrics.Metrics) -> None:
    # 60 (from the first handoff, not the later requeue), 180, 300, 720 s: p90 = 300 + 0.7 * 420
    assert computed.first_response.model_dump() == {"count": 4, "mean": 315.0, "median": 240.0,
                                                    "p90": pytest.approx(594.0)}


def test_resolution_time(computed: metrics.Metrics) -> None:
    # 300, 1200, 2400, 72300 (20 h 5 min), 347460 (4 d 31 min)
    stats = computed.resolution
    assert (stats.count, stats.median) == (5, 2400.0)
    assert stats.mean == pytest.approx(423660 / 5)
    assert stats.p90 == pytest.approx(72300 + 0.6 * (347460 - 72300))


def test_csat(computed: metrics.Metrics) -> None:
    assert computed.csat.model_dump() == {"count": 4, "mean": 3.5, "satisfied_share": 0.5}


def test_first_contact_resolution(computed: metrics.Metrics) -> None:
    # five resolved: 2 was followed by the same contact (4) within 7 days; 4 and 5 were reopened
    # within 7 days of their first resolution; 1 (its contact came back after 14 days) and 3 count
    assert computed.first_contact_resolution.model_dump() == {"count": 2, "total": 5, "rate": 0.4}


def test_conversations_per_operator(computed: metrics.Metrics, seeded: tuple[str, dict[str, int]]) -> None:
    ids = seeded[1]
    assert [(o.operator_id, o.name, o.conversations) for o in computed.per_operator] == [
        (ids["sam"], "Sam", 2), (ids["kim"], "Kim", 1)]


def test_bot_containment(computed: metrics.Metrics) -> None:
    # 1 and 5 (reopened only after 72 h); 4 was reopened within 72 h
    assert computed.bot_containment.model_dump() == {"count": 2, "total": 8, "rate": 0.25}


def test_handoff_rate_by_reason(computed: metrics.Metrics) -> None:
    assert computed.handoff.model_dump() == {"count": 4, "total": 8, "rate": 0.5}
    assert {k: v.count for k, v in computed.handoff_by_reason.items()} == {
        "explicit_request": 2, "frustration": 2, "low_confidence": 1}


def test_draft_acceptance(computed: metrics.Metrics) -> None:
    stats = computed.drafts
    # three replies started from a draft; the one that changed 80% of it does not count as used
    assert (stats.created, stats.started, stats.used, stats.acceptance) == (5, 3, 2, 0.4)
    assert stats.mean_edit_ratio == pytest.approx((0.1 + 0.4 + 0.8) / 3)
    assert {k: (v.count, v.total) for k, v in stats.by_kind.items()} == {
        "answer": (2, 2), "canned": (0, 1), "continuation": (0, 2)}


def test_percentile_interpolates_between_ranks() -> None:
    assert metrics.percentile([10.0], 0.9) == 10.0
    assert metrics.percentile([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0], 0.9) == pytest.approx(9.1)


def test_window_parsing() -> None:
    assert metrics.parse_window("2025-01-06", "2025-01-13T00:00:00Z") == (START, END)
    start, end = metrics.parse_window(None, None, now=END)
    assert (start, end) == (START + timedelta(days=0), END)
    with pytest.raises(InputError, match="start must be an ISO date"):
        metrics.parse_window("last week", None)
    with pytest.raises(InputError, match="must be before end"):
        metrics.parse_window("2025-01-13", "2025-01-06")


def test_report_command_prints_a_table_and_json(seeded: tuple[str, dict[str, int]], monkeypatch: Any,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    from engine.cli import main
    from engine.settings import get_settings

    monkeypatch.setenv("BATON_DATABASE_URL", seeded[0])
    get_settings.cache_clear()
    try:
        assert main(["report", "--start", "2025-01-06", "--end", "2025-01-13"]) == 0
        table = capsys.readouterr().out
        assert "First response" in table and "median 4m 0s" in table
        fcr_line = next(line for line in table.splitlines() if line.startswith("First-contact resolution"))
        assert "40.0%" in fcr_line and "2 of 5" in fcr_line
        assert main(["report", "--start", "2025-01-06", "--end", "2025-01-13", "--json"]) == 0
        data = json.loads(capsys.readouterr().out)
        assert data["conversations"] == 8 and data["csat"]["mean"] == 3.5
        assert main(["report", "--start", "yesterday"]) == 2
    finally:
        get_settings.cache_clear()
