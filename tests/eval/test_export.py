"""`baton eval export`: a seeded store (SQLite and PostgreSQL) exported as a handoff evaluation set,
one conversation per labelling rule (eval/export.py), read back through the format's loader and
replayed by `baton eval handoff`."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from engine.db import create_all, make_engine
from engine.models import Contact, Conversation, HandoffEvent, Message, Transition
from eval.conversations import load_conversations
from eval.export import export

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


class Seeder:
    """Writes conversations as the service would have left them (messages in order, transitions)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.contact = Contact(name="Ann")
        session.add(self.contact)
        session.flush()
        self.ids: dict[str, int] = {}

    def conversation(self, name: str, start: datetime, *, csat: int | None = None) -> Conversation:
        conversation = Conversation(contact_id=self.contact.id, token_hash=f"{name:0>64}"[-64:],
                                    created_at=start, csat_score=csat)
        self.session.add(conversation)
        self.session.flush()
        self.ids[name] = conversation.id
        conversation.last_seq = 0
        return conversation

    def say(self, conversation: Conversation, role: str, text: str, minute: float, *,
            quick_replies: list[str] | None = None, visibility: str = "public") -> Message:
        conversation.last_seq += 1
        message = Message(conversation_id=conversation.id, seq=conversation.last_seq, role=role, text=text,
                          visibility=visibility, quick_replies=quick_replies or [],
                          created_at=conversation.created_at + timedelta(minutes=minute))
        self.session.add(message)
        self.session.flush()
        return message

    def move(self, conversation: Conversation, from_state: str, to_state: str, minute: float,
             actor: str = "bot") -> None:
        when = conversation.created_at + timedelta(minutes=minute)
        self.session.add(Transition(conversation_id=conversation.id, from_state=from_state, to_state=to_state,
                                    actor=actor, created_at=when))

    def decide(self, conversation: Conversation, message: Message, reasons: list[str], minute: float) -> None:
        when = conversation.created_at + timedelta(minutes=minute)
        self.session.add(HandoffEvent(conversation_id=conversation.id, message_id=message.id,
                                      action="escalate", reasons=reasons, created_at=when))


def seed(session: Session) -> dict[str, int]:
    s = Seeder(session)
    c = s.conversation("offer", T0)  # the visitor takes the person the bot offered
    s.say(c, "visitor", "my parcel is late", 0)
    s.say(c, "bot", "Parcels take 3 to 5 days.", 0.1, quick_replies=["Talk to a person"])
    s.say(c, "visitor", "Talk to a person", 1)
    s.say(c, "system", "I'm bringing in a person from our team.", 1.1)
    s.say(c, "operator", "internal: check the carrier", 2, visibility="internal")
    s.say(c, "operator", "Hi, I'm Sam. Let me check.", 3)
    s.move(c, "bot", "offered", 0.1)
    s.move(c, "offered", "queued", 1)
    s.move(c, "queued", "assigned", 2, "operator:1")

    c = s.conversation("typed", T0 + timedelta(hours=1))  # asks for a person in their own words
    s.say(c, "visitor", "where is my refund", 0)
    s.say(c, "bot", "Refunds take 5 days.", 0.1)
    s.say(c, "visitor", "let me speak to a human please", 1)

    c = s.conversation("takeover_unhappy", T0 + timedelta(hours=2))  # an operator steps in
    s.say(c, "visitor", "how do I return a sofa", 0)
    s.say(c, "bot", "Sofas can be returned within 30 days.", 0.1)
    s.say(c, "visitor", "that didn't help at all", 2)
    s.move(c, "bot", "assigned", 3, "operator:1")
    s.say(c, "operator", "Hi, I can book a collection for you.", 4)
    s.say(c, "visitor", "great, thanks", 5)

    c = s.conversation("takeover_quiet", T0 + timedelta(hours=3))
    s.say(c, "visitor", "can I change my delivery address", 0)
    s.say(c, "bot", "You can change it before dispatch.", 0.1)
    s.move(c, "bot", "assigned", 1, "operator:1")

    c = s.conversation("handed_back", T0 + timedelta(hours=4))  # the bot handed over needlessly
    asked = s.say(c, "visitor", "how long do refunds take", 0)
    s.decide(c, asked, ["low_confidence"], 0.1)
    s.move(c, "bot", "queued", 0.1)
    s.move(c, "queued", "assigned", 1, "operator:1")
    s.move(c, "assigned", "bot", 2, "operator:1")

    c = s.conversation("handled", T0 + timedelta(hours=5))  # the bot handed over and a person helped
    s.say(c, "visitor", "hello", 0)
    s.say(c, "bot", "Hi! How can I help?", 0.1)
    asked = s.say(c, "visitor", "my account was hacked", 1)
    s.decide(c, asked, ["frustration", "low_confidence"], 1.1)
    s.move(c, "bot", "queued", 1.1)
    s.move(c, "queued", "assigned", 2, "operator:1")
    s.say(c, "operator", "I've locked the account; let's secure it together.", 3)

    c = s.conversation("rule_only", T0 + timedelta(hours=6))  # handed over by a rule: no reason to learn
    asked = s.say(c, "visitor", "I need an invoice", 0)
    s.decide(c, asked, ["rule"], 0.1)
    s.move(c, "bot", "queued", 0.1)
    s.move(c, "queued", "assigned", 1, "operator:1")
    s.say(c, "operator", "Here it is.", 2)

    c = s.conversation("low_csat", T0 + timedelta(hours=7), csat=1)  # the bot alone, and it went badly
    s.say(c, "visitor", "how do I descale the kettle", 0)
    s.say(c, "bot", "Kettles have a 2-year warranty.", 0.1)
    s.say(c, "visitor", "useless, I'll figure it out myself", 1)
    s.move(c, "bot", "resolved", 2, "visitor")

    c = s.conversation("high_csat", T0 + timedelta(hours=8), csat=5)
    s.say(c, "visitor", "do you ship to Ireland", 0)
    s.say(c, "bot", "Yes, in 3 to 5 working days.", 0.1)
    s.move(c, "bot", "resolved", 1, "visitor")

    c = s.conversation("resolved", T0 + timedelta(hours=9))
    s.say(c, "visitor", "what are your opening hours", 0)
    s.say(c, "bot", "Mon-Fri 8am to 8pm.", 0.1)
    s.move(c, "bot", "resolved", 1, "system")
    s.move(c, "resolved", "bot", 60 * 24 * 4, "visitor")  # back after four days: still solved then

    c = s.conversation("reopened", T0 + timedelta(hours=10))  # back within the hour: not clearly solved
    s.say(c, "visitor", "how do I reset my password", 0)
    s.say(c, "bot", "Use the Forgot password link.", 0.1)
    s.move(c, "bot", "resolved", 1, "system")
    s.move(c, "resolved", "bot", 30, "visitor")

    c = s.conversation("open", T0 + timedelta(hours=11))  # still with the bot: no outcome yet
    s.say(c, "visitor", "is the blue lamp back in stock", 0)

    s.conversation("empty", T0 + timedelta(hours=12))  # never said anything

    c = s.conversation("before_window", T0 - timedelta(days=30), csat=5)
    s.say(c, "visitor", "hi there, do you sell gift cards", 0)
    s.move(c, "bot", "resolved", 1, "visitor")
    session.commit()
    return s.ids


EXPECTED = {  # name: (escalate, reason, escalate_turn, label_strength, rule)
    "offer": (True, "explicit_request", 1, "gold", "offer_accepted"),
    "typed": (True, "explicit_request", 1, "soft", "asked_for_person"),
    "takeover_unhappy": (True, "frustration", 1, "gold", "operator_takeover"),
    "takeover_quiet": (True, "low_confidence", 0, "gold", "operator_takeover"),
    "handed_back": (False, "none", None, "soft", "handed_back"),
    "handled": (True, "frustration", 1, "soft", "operator_handled"),
    "low_csat": (True, "frustration", 1, "soft", "low_csat"),
    "high_csat": (False, "none", None, "gold", "high_csat"),
    "resolved": (False, "none", None, "soft", "resolved_by_bot"),
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, dict[str, int]]]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'history.db'}"
        yield url, seeded(url)
        return
    from tests.engine.conftest import postgres_database

    with postgres_database() as url:
        yield url, seeded(url)


def seeded(url: str) -> dict[str, int]:
    engine = make_engine(url)
    create_all(engine)
    with Session(engine) as session:
        ids = seed(session)
    engine.dispose()
    return ids


def test_each_rule_labels_its_conversation_and_the_file_loads(store, tmp_path: Path) -> None:
    url, ids = store
    out = tmp_path / "history.jsonl"
    engine = make_engine(url)
    counts = export(engine, out, since=T0 - timedelta(days=1))
    engine.dispose()
    rows = {row["id"]: row for row in map(json.loads, out.read_text().splitlines())}
    by_name = {name: rows.get(f"conversation-{ids[name]}") for name in ids}
    for name, (escalate, reason, turn, strength, rule) in EXPECTED.items():
        row = by_name[name]
        assert row is not None, name
        got = (row["escalate"], row["reason"], row["escalate_turn"], row["label_strength"], row["source"])
        assert got == (escalate, reason, turn, strength, f"baton-export:{rule}"), name
    assert {name for name, row in by_name.items() if row is None} == {
        "rule_only", "reopened", "open", "empty", "before_window"}
    assert counts == {**{rule: 1 for *_, rule in EXPECTED.values() if rule != "operator_takeover"},
                      "operator_takeover": 2, "skipped": 4}  # before_window is outside, not skipped
    offer = by_name["offer"]
    # public turns only (no system notice, no internal note), operators as agent, each with its time
    assert [(t["role"], t["text"]) for t in offer["turns"]] == [
        ("user", "my parcel is late"), ("bot", "Parcels take 3 to 5 days."), ("user", "Talk to a person"),
        ("agent", "Hi, I'm Sam. Let me check.")]
    assert datetime.fromisoformat(offer["turns"][2]["at"]) == T0 + timedelta(minutes=1)
    loaded = {c.id: c for c in load_conversations(out)}  # the format's own validation accepts every line
    assert len(loaded) == len(EXPECTED) and loaded[offer["id"]].escalate_turn == 1


def test_the_command_exports_and_the_replay_measures_the_detector(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'history.db'}"
    seeded(url)
    out = tmp_path / "history.jsonl"
    done = baton("eval", "export", "--out", str(out), "--database", url, "--since", "2026-11-01")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["exported"], summary["skipped"]) == (len(EXPECTED), 4)
    replay = baton("eval", "handoff", str(out), "--out", str(tmp_path / "report"))
    assert replay.returncode == 0, replay.stderr
    metrics = json.loads((tmp_path / "report" / "metrics.json").read_text())
    assert metrics["n"] == len(EXPECTED)
    assert metrics["confusion"]["tp"] + metrics["confusion"]["fn"] == 6  # the six labelled handoffs
    assert metrics["per_reason"]["explicit_request"]["n"] == 2


def test_bad_dates_exit_2_naming_the_field(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'history.db'}"
    seeded(url)
    bad = baton("eval", "export", "--out", str(tmp_path / "x.jsonl"), "--database", url,
                "--since", "last week")
    assert bad.returncode == 2 and "--since must be an ISO date" in bad.stderr
    backwards = baton("eval", "export", "--out", str(tmp_path / "x.jsonl"), "--database", url,
                      "--since", "2026-12-01", "--until", "2026-11-01")
    assert backwards.returncode == 2 and "must be before --until" in backwards.stderr
    assert not (tmp_path / "x.jsonl").exists()


def baton(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", "from engine.cli import main; raise SystemExit(main())", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)
