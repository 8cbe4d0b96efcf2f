"""Group commit on SQLite (``engine.writes``): writes queued together share one transaction, each
in its own savepoint, and behave as if each had its own."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from engine.bus import conversation_stream
from engine.events import Typing
from engine.models import Contact
from engine.service.errors import Conflict
from engine.service.runtime import Outbox, ServiceContext

pytestmark = pytest.mark.anyio


def add_contact(session: Session, outbox: Outbox, name: str) -> Contact:
    contact = Contact(name=name)
    session.add(contact)
    session.flush()
    outbox.add(conversation_stream(contact.id), Typing(conversation_id=contact.id, role="visitor", on=True))
    if name.startswith("bad"):
        raise Conflict(f"{name} is refused after its row was written")
    return contact


def rename_first(session: Session, _outbox: Outbox, name: str) -> Contact:
    contact = session.exec(select(Contact).order_by(Contact.id)).first()
    contact.name = name
    session.add(contact)
    return contact


def names(session: Session) -> list[str]:
    return list(session.exec(select(Contact.name).order_by(Contact.id)).all())


async def test_concurrent_writes_share_a_transaction_and_fail_alone(ctx: ServiceContext) -> None:
    subscription = ctx.bus.subscribe(*(conversation_stream(n) for n in range(1, 40)))
    wanted = [f"bad {n}" if n % 5 == 2 else f"visitor {n}" for n in range(20)]
    results = await asyncio.gather(*(ctx.act(add_contact, name) for name in wanted), return_exceptions=True)

    assert max(ctx.writes.groups) > 1, ctx.writes.groups  # they did share transactions
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == 4 and all(isinstance(r, Conflict) for r in refused)
    stored = await ctx.read(names)
    assert stored == [name for name in wanted if not name.startswith("bad")]
    # each stored write's event was published once, the refused ones' never: read up to a marker
    await ctx.bus.publish(conversation_stream(39), Typing(conversation_id=39, role="operator", on=False))
    published = []
    while (event := (await subscription.get())[1]).conversation_id != 39:
        published.append(event.conversation_id)
    assert sorted(published) == sorted(r.id for r in results if isinstance(r, Contact))


async def test_what_a_write_returns_is_not_changed_by_the_writes_after_it(ctx: ServiceContext) -> None:
    await ctx.act(add_contact, "first")
    one, two = await asyncio.gather(ctx.act(rename_first, "one"), ctx.act(rename_first, "two"))
    assert ctx.writes.groups[-1] == 2
    assert (one.name, two.name) == ("one", "two")  # the same row, as each write left it
    assert await ctx.read(names) == ["two"]


async def test_a_write_whose_transaction_is_lost_runs_again_and_its_group_still_commits(
        ctx: ServiceContext) -> None:
    """A deadlock with another worker (PostgreSQL), a busy database: an ``OperationalError`` is the
    transaction's fault, not the write's, so the write is run again rather than failing its caller,
    and its group's other writes are stored. SQLite's own error stands in for the deadlock (a table
    missing on the first attempt only)."""
    attempts: list[int] = []

    def unlucky(session: Session, outbox: Outbox) -> Contact:
        attempts.append(len(attempts))
        if len(attempts) == 1:
            session.execute(text("SELECT * FROM no_such_table"))  # a real OperationalError, from SQLite
        return add_contact(session, outbox, "unlucky")

    results = await asyncio.gather(*(ctx.act(add_contact, f"visitor {n}") for n in range(6)),
                                   ctx.act(unlucky), *(ctx.act(add_contact, f"later {n}") for n in range(6)))
    assert max(ctx.writes.groups) > 1, ctx.writes.groups
    assert len(attempts) == 2 and all(isinstance(r, Contact) for r in results)
    stored = await ctx.read(names)
    wanted = [*(f"visitor {n}" for n in range(6)), "unlucky", *(f"later {n}" for n in range(6))]
    assert sorted(stored) == sorted(wanted)
