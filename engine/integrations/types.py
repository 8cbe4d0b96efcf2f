"""The request and response shapes of an account integration (docs/integrations.md documents them).

Any shop, billing or CRM system can sit behind Baton if it answers these over HTTP: a lookup of the
customer's account with their orders, and one ``POST`` per action. Amounts are decimals in the
order's currency; dates are ISO 8601.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class _Shape(BaseModel):
    model_config = ConfigDict(extra="ignore")  # an integration may send more than Baton reads


class OrderItem(_Shape):
    name: str
    quantity: int = 1
    price: Decimal


class Fee(_Shape):
    """A charge on the order besides its items (a late-return fee, a restocking fee)."""

    code: str
    label: str
    amount: Decimal
    waived: bool = False


class Order(_Shape):
    number: str
    status: str  # placed, dispatched, delivered, returned, refunded, cancelled: shown as the shop says
    placed_at: datetime
    dispatched_at: datetime | None = None
    delivered_at: datetime | None = None
    estimated_delivery: date | None = None
    return_deadline: date | None = None
    currency: str
    total: Decimal
    refunded: Decimal = Decimal("0")
    items: list[OrderItem] = []
    fees: list[Fee] = []
    carrier: str | None = None
    tracking: str | None = None


class Account(_Shape):
    """``GET /accounts/lookup?email=&phone=&order=``: 200 with this body, 404 when nobody matches."""

    id: str
    name: str
    email: str | None = None
    phone: str | None = None
    since: date | None = None
    plan: str | None = None
    orders: list[Order] = []  # newest first


class LookupQuery(BaseModel):
    """What Baton knows of the visitor; the integration matches on any of them."""

    model_config = ConfigDict(frozen=True)

    email: str | None = None
    phone: str | None = None
    order: str | None = None

    def params(self) -> dict[str, str]:
        return {k: v for k, v in self.model_dump().items() if v}


class ActionCall(BaseModel):
    """``POST /actions/{kind}`` body, with the header ``Idempotency-Key``: the integration performs
    a key once and answers a repeat with the first outcome."""

    order_number: str
    amount: Decimal
    reason: str
    requested_by: str  # the operator's email
    approved_by: str | None = None
    reference: str  # Baton's conversation, e.g. "baton:conversation:42"


class ActionOutcome(_Shape):
    """The 200 answer to an action. A 4xx with ``{"detail": ...}`` is a refusal."""

    reference: str  # the integration's id for what it did (a refund id)
    message: str = ""
    order: Order | None = None  # the order as it stands afterwards
    replayed: bool = Field(default=False, description="true when this key was performed before")
