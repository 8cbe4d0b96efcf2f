"""The sample shop backend: Larkspur Goods' orders, refunds, fee waivers and return deadlines.

A small real HTTP service (FastAPI, its own SQLite file) that answers the integration's documented
shapes (``engine.integrations.types``, docs/integrations.md), so the demo shows a full refund in the
browser and the tests hit a real socket. ``make run`` starts it beside ``baton serve``:

    python -m engine.integrations.sample_shop --port 8100 --db var/shop.db --token demo-shop-token

The customers are the fictional ones of ``samples/kb`` and the screenshots; order dates are laid
relative to the day the database is made, so the demo always reads as recent. ``/_control`` lets
the tests and a demo make it slow or failing (the same token guards it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sqlite3
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Header, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from engine.integrations.types import Account, ActionCall, ActionOutcome, Order

CURRENCY = "GBP"
SCHEMA = """
CREATE TABLE IF NOT EXISTS customer (id TEXT PRIMARY KEY, name TEXT, email TEXT, phone TEXT, since TEXT,
                                     plan TEXT);
CREATE TABLE IF NOT EXISTS orders (number TEXT PRIMARY KEY, customer_id TEXT REFERENCES customer(id),
    status TEXT, placed_at TEXT, dispatched_at TEXT, delivered_at TEXT, estimated_delivery TEXT,
    return_deadline TEXT, total TEXT, refunded TEXT, carrier TEXT, tracking TEXT);
CREATE TABLE IF NOT EXISTS item (order_number TEXT REFERENCES orders(number), name TEXT, quantity INTEGER,
                                 price TEXT);
CREATE TABLE IF NOT EXISTS fee (order_number TEXT REFERENCES orders(number), code TEXT, label TEXT,
                                amount TEXT, waived INTEGER DEFAULT 0);
CREATE TABLE IF NOT EXISTS action (idempotency_key TEXT PRIMARY KEY, kind TEXT, order_number TEXT,
    amount TEXT, reason TEXT, requested_by TEXT, approved_by TEXT, reference TEXT, created_at TEXT,
    outcome TEXT);
"""

# (id, name, email, phone, customer for days, plan, orders); each order:
# (number, status, placed days ago, dispatched, delivered (days ago), estimated delivery (days ahead),
#  items [(name, quantity, price)], fees [(code, label, amount)], carrier)
CUSTOMERS: list[tuple[Any, ...]] = [
    (
        "C-1001",
        "Priya Shah",
        "priya@example.org",
        "+447700900123",
        900,
        "Larkspur Rewards Gold",
        [
            ("LG-20417", "delivered", 6, 5, 2, None, [("Arden table lamp", 1, "34.00")], [], "Royal Mail"),
            (
                "LG-19982",
                "delivered",
                80,
                79,
                77,
                None,
                [("Linen cushion cover", 2, "12.50")],
                [],
                "Royal Mail",
            ),
        ],
    ),
    (
        "C-1002",
        "Alex Morgan",
        "alex@example.org",
        "+447700900789",
        400,
        "Larkspur Rewards",
        [
            (
                "LG-20500",
                "delivered",
                5,
                4,
                1,
                None,
                [("Copper kettle", 1, "89.00"), ("Stoneware mug set", 1, "24.00")],
                [],
                "DPD",
            ),
            (
                "LG-20211",
                "returned",
                45,
                44,
                42,
                None,
                [("Walnut serving board", 1, "40.00")],
                [("late_return", "Late return fee", "7.50")],
                "DPD",
            ),
        ],
    ),
    (
        "C-1003",
        "Mei Lin",
        "mei@example.org",
        "+447700900555",
        30,
        None,
        [
            ("LG-20533", "dispatched", 2, 1, None, 2, [("Rattan plant stand", 1, "55.00")], [], "DPD"),
        ],
    ),
    (
        "C-1004",
        "Tom Becker",
        "tom@example.org",
        "+447700900456",
        10,
        None,
        [
            ("LG-20388", "placed", 0, None, None, 4, [("Oak bookends", 1, "22.00")], [], None),
        ],
    ),
]
RETURN_DAYS = 30


class Faults(BaseModel):
    """How the shop misbehaves, for tests and demos: an error status instead of any answer, or a
    delay after the work is done before the answer leaves."""

    model_config = ConfigDict(extra="forbid")

    delay_seconds: float = Field(default=0.0, ge=0, le=120)
    fail_status: int | None = Field(default=None, ge=400, le=599)


@dataclass
class ShopState:
    db: Path
    token: str = ""
    faults: Faults = field(default_factory=Faults)
    counts: dict[str, int] = field(default_factory=lambda: {"lookups": 0, "actions": 0, "performed": 0})
    lock: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """One transaction; the lock makes each request's read-check-write atomic."""
        with self.lock:
            connection = sqlite3.connect(self.db)
            connection.row_factory = sqlite3.Row
            try:
                with connection:
                    yield connection
            finally:
                connection.close()


def _iso(days_ago: float | None, now: datetime) -> str | None:
    return None if days_ago is None else (now - timedelta(days=days_ago)).isoformat()


def seed(state: ShopState, now: datetime | None = None) -> None:
    """Create the tables and, in an empty database, the sample customers."""
    now = now or datetime.now(UTC).replace(microsecond=0)
    state.db.parent.mkdir(parents=True, exist_ok=True)
    with state.connect() as db:
        db.executescript(SCHEMA)
        if db.execute("SELECT count(*) FROM customer").fetchone()[0]:
            return
        for cid, name, email, phone, since, plan, orders in CUSTOMERS:
            db.execute(
                "INSERT INTO customer VALUES (?, ?, ?, ?, ?, ?)",
                (cid, name, email, phone, (now - timedelta(days=since)).date().isoformat(), plan),
            )
            for number, status, placed, dispatched, delivered, eta, items, fees, carrier in orders:
                total = sum(Decimal(price) * qty for _, qty, price in items)
                deadline = (
                    (now - timedelta(days=delivered) + timedelta(days=RETURN_DAYS)).date().isoformat()
                    if delivered is not None
                    else None
                )
                estimate = (now + timedelta(days=eta)).date().isoformat() if eta is not None else None
                db.execute(
                    "INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        number,
                        cid,
                        status,
                        _iso(placed, now),
                        _iso(dispatched, now),
                        _iso(delivered, now),
                        estimate,
                        deadline,
                        str(total),
                        "0.00",
                        carrier,
                        f"{carrier[:2].upper()}{number[3:]}GB" if carrier else None,
                    ),
                )
                db.executemany(
                    "INSERT INTO item VALUES (?, ?, ?, ?)",
                    [(number, item, qty, price) for item, qty, price in items],
                )
                db.executemany(
                    "INSERT INTO fee (order_number, code, label, amount) VALUES (?, ?, ?, ?)",
                    [(number, code, label, amount) for code, label, amount in fees],
                )


def _order(db: sqlite3.Connection, row: sqlite3.Row) -> Order:
    items = db.execute("SELECT * FROM item WHERE order_number = ?", (row["number"],)).fetchall()
    fees = db.execute("SELECT * FROM fee WHERE order_number = ?", (row["number"],)).fetchall()
    return Order.model_validate(
        {
            **dict(row),
            "currency": CURRENCY,
            "items": [dict(i) for i in items],
            "fees": [dict(f) for f in fees],
        }
    )  # the columns are the documented fields


def _digits(phone: str) -> str:
    return re.sub(r"\D", "", phone)[-10:]


def lookup(state: ShopState, email: str | None, phone: str | None, order: str | None) -> Account | None:
    with state.connect() as db:
        customer = None
        if order:
            customer = db.execute(
                "SELECT c.* FROM customer c JOIN orders o ON o.customer_id = c.id "
                "WHERE upper(o.number) = upper(?)",
                (order.strip(),),
            ).fetchone()
        if customer is None and email:
            customer = db.execute(
                "SELECT * FROM customer WHERE lower(email) = lower(?)", (email.strip(),)
            ).fetchone()
        if customer is None and phone and len(_digits(phone)) >= 7:
            customer = next(
                (
                    c
                    for c in db.execute("SELECT * FROM customer").fetchall()
                    if c["phone"] and _digits(c["phone"]) == _digits(phone)
                ),
                None,
            )
        if customer is None:
            return None
        orders = db.execute(
            "SELECT * FROM orders WHERE customer_id = ? ORDER BY placed_at DESC", (customer["id"],)
        ).fetchall()
        return Account.model_validate({**dict(customer), "orders": [_order(db, o) for o in orders]})


def _money(amount: Decimal) -> str:
    return f"£{amount:.2f}"


def _refund(db: sqlite3.Connection, order: sqlite3.Row, call: ActionCall) -> str:
    left = Decimal(order["total"]) - Decimal(order["refunded"])
    if call.amount > left:
        raise HTTPException(
            422,
            f"a refund of {_money(call.amount)} is more than the {_money(left)} "
            f"left to refund on {order['number']}",
        )
    refunded = Decimal(order["refunded"]) + call.amount
    status = "refunded" if refunded == Decimal(order["total"]) else "partially refunded"
    db.execute(
        "UPDATE orders SET refunded = ?, status = ? WHERE number = ?",
        (str(refunded), status, order["number"]),
    )
    return f"refunded {_money(call.amount)} to the original payment method"


def _waive(db: sqlite3.Connection, order: sqlite3.Row, call: ActionCall) -> str:
    fee = db.execute(
        "SELECT rowid, * FROM fee WHERE order_number = ? AND waived = 0 AND amount = ?",
        (order["number"], f"{call.amount:.2f}"),
    ).fetchone()
    if fee is None:
        open_fees = db.execute(
            "SELECT label, amount FROM fee WHERE order_number = ? AND waived = 0", (order["number"],)
        ).fetchall()
        listed = ", ".join(f"{f['label']} {_money(Decimal(f['amount']))}" for f in open_fees) or "none"
        raise HTTPException(
            422, f"no unwaived fee of {_money(call.amount)} on {order['number']} (unwaived fees: {listed})"
        )
    db.execute("UPDATE fee SET waived = 1 WHERE rowid = ?", (fee["rowid"],))
    return f"waived the {fee['label'].lower()} of {_money(call.amount)}"


def _extend(db: sqlite3.Connection, order: sqlite3.Row, call: ActionCall) -> str:
    if order["return_deadline"] is None:
        raise HTTPException(422, f"{order['number']} has no return deadline yet (it has not been delivered)")
    if call.amount != call.amount.to_integral_value():
        raise HTTPException(422, "a deadline extension is a whole number of days")
    deadline = date.fromisoformat(order["return_deadline"]) + timedelta(days=int(call.amount))
    db.execute(
        "UPDATE orders SET return_deadline = ? WHERE number = ?", (deadline.isoformat(), order["number"])
    )
    return f"return deadline moved to {deadline.isoformat()}"


ACTIONS: dict[str, Callable[[sqlite3.Connection, sqlite3.Row, ActionCall], str]] = {
    "refund": _refund,
    "waive_fee": _waive,
    "extend_deadline": _extend,
}


def perform(state: ShopState, kind: str, call: ActionCall, key: str) -> ActionOutcome:
    """Do ``kind`` once per idempotency key: a repeat answers the first outcome, marked ``replayed``."""
    if kind not in ACTIONS:
        raise HTTPException(404, f"this shop has no action {kind!r} (it has {', '.join(sorted(ACTIONS))})")
    with state.connect() as db:
        done = db.execute("SELECT outcome FROM action WHERE idempotency_key = ?", (key,)).fetchone()
        if done is not None:
            return ActionOutcome.model_validate_json(done["outcome"]).model_copy(update={"replayed": True})
        if call.amount <= 0:
            raise HTTPException(422, "the amount must be more than zero")
        order = db.execute(
            "SELECT * FROM orders WHERE upper(number) = upper(?)", (call.order_number,)
        ).fetchone()
        if order is None:
            raise HTTPException(404, f"no order {call.order_number}")
        message = ACTIONS[kind](db, order, call)
        reference = f"{kind.upper()[:3]}-{db.execute('SELECT count(*) FROM action').fetchone()[0] + 1:05d}"
        refreshed = db.execute("SELECT * FROM orders WHERE number = ?", (order["number"],)).fetchone()
        outcome = ActionOutcome(reference=reference, message=message, order=_order(db, refreshed))
        db.execute(
            "INSERT INTO action VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                key,
                kind,
                order["number"],
                str(call.amount),
                call.reason,
                call.requested_by,
                call.approved_by,
                reference,
                datetime.now(UTC).isoformat(),
                outcome.model_dump_json(),
            ),
        )
        state.counts["performed"] += 1
        return outcome


def recorded(state: ShopState) -> list[dict[str, Any]]:
    """Every action the shop performed, oldest first (what the tests check the shop recorded)."""
    with state.connect() as db:
        rows = db.execute("SELECT * FROM action ORDER BY created_at, rowid").fetchall()
    return [
        {k: v for k, v in dict(row).items() if k != "outcome"} | {"outcome": json.loads(row["outcome"])}
        for row in rows
    ]


def create_shop(state: ShopState) -> FastAPI:
    seed(state)
    app = FastAPI(
        title="Larkspur Goods sample shop",
        version="1.0",
        description="Orders, refunds, fee waivers and return deadlines for Baton's demo and tests.",
    )

    def authorised(authorization: str | None = Header(default=None)) -> None:
        if state.token and authorization != f"Bearer {state.token}":
            raise HTTPException(401, "a valid token is required (Authorization: Bearer <token>)")

    @app.middleware("http")
    async def misbehave(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if request.url.path.startswith("/_control"):
            return await call_next(request)
        faults = state.faults
        if faults.fail_status:
            return Response(status_code=faults.fail_status, content=b"the shop is having a bad day")
        response = await call_next(request)
        if faults.delay_seconds:  # the work is done, the answer is late: what a retry must not repeat
            await asyncio.sleep(faults.delay_seconds)
        return response

    guarded = [Depends(authorised)]

    @app.get("/accounts/lookup", dependencies=guarded)
    def account_lookup(
        email: str | None = None, phone: str | None = None, order: str | None = None
    ) -> Account:
        if not (email or phone or order):
            raise HTTPException(422, "give at least one of email, phone or order")
        state.counts["lookups"] += 1
        account = lookup(state, email, phone, order)
        if account is None:
            raise HTTPException(404, "no customer matches")
        return account

    @app.post("/actions/{kind}", dependencies=guarded)
    def action(
        kind: str, call: ActionCall, idempotency_key: str = Header(min_length=8, max_length=80)
    ) -> ActionOutcome:
        state.counts["actions"] += 1
        return perform(state, kind, call, idempotency_key)

    @app.put("/_control/faults", dependencies=guarded)
    def set_faults(faults: Faults) -> Faults:
        state.faults = faults
        return faults

    @app.get("/_control/actions", dependencies=guarded)
    def list_actions() -> dict[str, Any]:
        return {"actions": recorded(state), "counts": state.counts}

    return app


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    parser = argparse.ArgumentParser(
        prog="python -m engine.integrations.sample_shop",
        description="The Larkspur Goods sample shop backend.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--db", type=Path, default=Path("var/shop.db"))
    parser.add_argument("--token", default="", help="required as 'Authorization: Bearer <token>' when set")
    args = parser.parse_args(argv)
    uvicorn.run(
        create_shop(ShopState(db=args.db, token=args.token)),
        host=args.host,
        port=args.port,
        log_level="warning",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
