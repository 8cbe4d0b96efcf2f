"""Rules for actions on accounts: who may do how much without approval, who can approve the rest,
what a valid request is, and which action a conversation calls for (with the evidence).

Pure functions over the configured :class:`ActionSpec` list, an operator's role and an account
from the integration: no database, no network, no other service module (``actions`` applies them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from engine.integrations.types import Account, Order
from engine.settings import ActionSpec
from knowledge.errors import InputError

ROLE_NAMES = {"operator": "an operator", "supervisor": "a supervisor", "admin": "an admin"}
CURRENCY_SIGNS = {"GBP": "£", "EUR": "€", "USD": "$"}
MIN_REASON_CHARS = 5
EXTENSION_DAYS = 14  # what a suggested deadline extension offers


@dataclass(frozen=True)
class Authority:
    """Whether ``role`` may do ``amount`` alone; if not, the roles whose limit covers it."""

    allowed: bool
    limit: Decimal
    approver_roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class Suggestion:
    """An action the conversation calls for. Only a suggestion: a person reviews, edits and sends it."""

    kind: str
    label: str
    order_number: str
    amount: Decimal
    reason: str
    evidence: list[str] = field(default_factory=list)


def spec_for(specs: list[ActionSpec], kind: str) -> ActionSpec:
    for spec in specs:
        if spec.kind == kind:
            return spec
    raise InputError(f"unknown action {kind!r}; configured: {', '.join(s.kind for s in specs)}", field="kind")


def unit_of(spec: ActionSpec, currency: str) -> str:
    return currency if spec.unit == "money" else "days"


def describe(amount: Decimal, unit: str) -> str:
    """``£24.00``, ``14 days``, ``24.00 CHF``."""
    if unit == "days":
        days = int(amount)
        return f"{days} day" if days == 1 else f"{days} days"
    sign = CURRENCY_SIGNS.get(unit)
    return f"{sign}{amount:.2f}" if sign else f"{amount:.2f} {unit}"


def limit_of(spec: ActionSpec, role: str) -> Decimal:
    return spec.limits.get(role, Decimal(0))


def authority(spec: ActionSpec, role: str, amount: Decimal) -> Authority:
    """Up to its limit a role acts alone; above it, a role whose limit covers the amount approves."""
    limit = limit_of(spec, role)
    if amount <= limit:
        return Authority(allowed=True, limit=limit)
    approvers = tuple(
        r
        for r, v in sorted(spec.limits.items(), key=lambda item: item[1])
        if v >= amount and r != role
    )
    return Authority(allowed=False, limit=limit, approver_roles=approvers)


def approver_phrase(roles: tuple[str, ...]) -> str:
    return " or ".join(ROLE_NAMES.get(r, r) for r in roles) or "nobody (it is over every role's limit)"


def checked_request(spec: ActionSpec, amount: Decimal, reason: str) -> tuple[Decimal, str]:
    """The amount (two decimals; whole days) and the reason, or an ``InputError`` naming the problem."""
    reason = reason.strip()
    if len(reason) < MIN_REASON_CHARS:
        raise InputError(
            f"a reason is required (at least {MIN_REASON_CHARS} characters): it goes in the audit",
            field="reason",
        )
    if amount <= 0:
        raise InputError("the amount must be more than zero", field="amount")
    if spec.unit == "days":
        if amount != amount.to_integral_value():
            raise InputError("a deadline extension is a whole number of days", field="amount")
        return amount.quantize(Decimal("1")), reason
    if amount != amount.quantize(Decimal("0.01")):
        raise InputError("an amount has at most two decimals", field="amount")
    return amount.quantize(Decimal("0.01")), reason


def visitor_text(spec: ActionSpec, amount: Decimal, unit: str, order_number: str) -> str:
    template = spec.visitor_text or f"Done: {spec.label.lower()} ({{amount}}) on order {{order}}."
    return template.replace("{amount}", describe(amount, unit)).replace("{order}", order_number)


# --- what the conversation calls for -----------------------------------------------------------

_REFUND = re.compile(
    r"\b(refund\w*|money back|damaged|dented|broken|cracked|faulty|smashed|scratched|"
    r"not working|doesn'?t work|stopped working)\b",
    re.IGNORECASE,
)
_FEE = re.compile(r"\b(fee|fees|charge[ds]?|surcharge)\b", re.IGNORECASE)
_DEADLINE = re.compile(
    r"\b(more time|extension|extend\w*|deadline|return window|too late|missed the return|"
    r"past the return)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[a-z]{4,}")


def _order_in_question(account: Account, mentioned: list[str]) -> Order | None:
    """The order the visitor named last, else their newest."""
    by_number = {o.number.upper(): o for o in account.orders}
    for number in reversed(mentioned):
        if number.upper() in by_number:
            return by_number[number.upper()]
    return account.orders[0] if account.orders else None


def _quote(text: str, match: re.Match[str]) -> str:
    """The visitor's sentence around the matching words."""
    start = (
        max(
            text.rfind(".", 0, match.start()),
            text.rfind("!", 0, match.start()),
            text.rfind("?", 0, match.start()),
        )
        + 1
    )
    ends = [i for i in (text.find(c, match.end()) for c in ".!?") if i != -1]
    return f"Visitor: “{text[start : (min(ends) + 1) if ends else len(text)].strip()}”"


def _refund_amount(order: Order, said: str) -> tuple[Decimal, str]:
    """The price of the item the visitor named, else what is left to refund on the order."""
    left = order.total - order.refunded
    words = set(_WORD.findall(said.lower()))
    for item in order.items:
        if words & set(_WORD.findall(item.name.lower())):
            price = min(item.price * item.quantity, left)
            return (
                price,
                f"{item.name} {describe(item.price * item.quantity, order.currency)} on {order.number}",
            )
    return left, f"{order.number} total {describe(order.total, order.currency)}"


def suggest(
    specs: list[ActionSpec], visitor_texts: list[str], account: Account, mentioned_orders: list[str]
) -> list[Suggestion]:
    """At most one suggestion per configured kind (refund, waive_fee, extend_deadline), each with the
    visitor's words and the order's facts that call for it; nothing when nothing does."""
    kinds = {s.kind: s for s in specs}
    order = _order_in_question(account, mentioned_orders)
    if order is None:
        return []
    found: list[Suggestion] = []
    said = " ".join(visitor_texts)

    def first(pattern: re.Pattern[str]) -> str | None:
        for text in reversed(visitor_texts):
            match = pattern.search(text)
            if match:
                return _quote(text, match)
        return None

    status = f"Order {order.number}: {order.status}"
    if "refund" in kinds and order.total - order.refunded > 0 and (quote := first(_REFUND)):
        amount, basis = _refund_amount(order, said)
        found.append(
            Suggestion(
                "refund",
                kinds["refund"].label,
                order.number,
                amount,
                "Item arrived damaged or faulty",
                [quote, status, basis],
            )
        )
    if "waive_fee" in kinds and (quote := first(_FEE)):
        fees = [(o, f) for o in [order, *account.orders] for f in o.fees if not f.waived]
        if fees:
            with_fee, fee = fees[0]
            found.append(
                Suggestion(
                    "waive_fee",
                    kinds["waive_fee"].label,
                    with_fee.number,
                    fee.amount,
                    f"Waive the {fee.label.lower()} as a goodwill gesture",
                    [
                        quote,
                        f"{fee.label} {describe(fee.amount, with_fee.currency)} "
                        f"on {with_fee.number}, not waived",
                    ],
                )
            )
    if "extend_deadline" in kinds and order.return_deadline and (quote := first(_DEADLINE)):
        found.append(
            Suggestion(
                "extend_deadline",
                kinds["extend_deadline"].label,
                order.number,
                Decimal(EXTENSION_DAYS),
                "Customer needs more time to return",
                [quote, f"Return deadline {order.return_deadline.isoformat()}"],
            )
        )
    return found
