"""The operator's list on SQLite and PostgreSQL: search over messages and contacts (LIKE's own % and _
taken literally), the tag, channel and state filters, the sorts, unread counts and the last message."""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

from sqlmodel import Session

from engine.db import create_all, make_engine, session_scope
from engine.models import Contact, Conversation, Message, Role, State, Visibility, utcnow
from engine.service import queries
from engine.service.queries import ListQuery
from engine.settings import Settings

SETTINGS = Settings(environment="test", secret_key=secrets.token_urlsafe(32))


def test_search_filters_sort_and_unread(database_url: str) -> None:
    engine = make_engine(database_url)
    create_all(engine)
    mark = uuid.uuid4().hex[:8]  # the session's database is shared: find only this test's rows
    now = utcnow()
    with session_scope(engine) as session:
        ann = Contact(name=f"Ann {mark}", email=f"ann-{mark}@example.com")
        bob = Contact(name=f"Bob {mark}", phone="+447700900123")
        session.add_all([ann, bob])
        session.flush()
        first = Conversation(contact_id=ann.id, channel="web", token_hash=f"a-{mark}",
                             tags=[f"refund-{mark}"], state=State.assigned, priority=0,
                             created_at=now - timedelta(minutes=9))
        second = Conversation(contact_id=bob.id, channel="sms", token_hash=f"b-{mark}", state=State.assigned,
                              priority=2, created_at=now - timedelta(minutes=5))
        session.add_all([first, second])
        session.flush()
        session.add_all([
            Message(conversation_id=first.id, seq=1, role=Role.visitor, text=f"50% off_{mark} was promised",
                    created_at=now - timedelta(minutes=8), read_at=now),
            Message(conversation_id=first.id, seq=2, role=Role.operator, text="checking the offer",
                    visibility=Visibility.internal, author_id=None, created_at=now - timedelta(minutes=7)),
            Message(conversation_id=second.id, seq=1, role=Role.visitor, text="where is it",
                    created_at=now - timedelta(minutes=4)),
            Message(conversation_id=second.id, seq=2, role=Role.visitor, text="hello?",
                    created_at=now - timedelta(minutes=1)),
            Message(conversation_id=second.id, seq=3, role=Role.system, text="You're number 1 in line.",
                    created_at=now)])
        first_id, second_id = first.id, second.id

    def ids(**wanted: object) -> list[int]:
        with Session(engine) as session:
            rows = queries.list_conversations(session, SETTINGS, ListQuery(which="all", **wanted),
                                              operator_id=1)
        return [r.conversation.id for r in rows if r.conversation.id in (first_id, second_id)]

    assert ids(q=f"50% off_{mark}") == [first_id]  # in a message
    assert ids(q=f"50_ off%{mark}") == []  # % and _ are literal, not wildcards
    assert ids(q=f"ANN-{mark}@") == [first_id]  # a contact's email, any case
    assert ids(q="7700900123", channel="sms") == [second_id]  # a phone number, and the channel
    assert ids(tag=f"refund-{mark}") == [first_id]
    assert ids(tag=f"refund-{mark}"[:-1]) == []  # a tag matches whole
    assert ids(q=mark, sort="newest") == [second_id, first_id]
    assert ids(q=mark, sort="waiting") == [first_id, second_id]
    assert ids(q=mark, sort="priority") == [second_id, first_id]
    with Session(engine) as session:
        rows = {r.conversation.id: r for r in queries.list_conversations(
            session, SETTINGS, ListQuery(which="all", q=mark), operator_id=1)}
    assert rows[first_id].unread == 0 and rows[second_id].unread == 2
    assert rows[second_id].last_message.text == "hello?"  # not the system notice
    assert rows[first_id].last_message.visibility == "internal"
    assert rows[first_id].match.text == f"50% off_{mark} was promised"
    engine.dispose()
