"""Canned replies: search by shortcut and text, and fill their placeholders for one conversation.

Placeholders are ``{contact.name}``, ``{contact.email}``, ``{operator.name}``,
``{conversation.id}`` and ``{order.number}`` (the latest order number the visitor gave in the
conversation's last ``RECENT_TURNS`` public turns, so a long conversation's read stays bounded). An
unknown placeholder, or one this conversation has no value for, is an `InputError` naming it:
a reply that says "Hi {contact.name}" to a visitor is worse than no reply.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from sqlalchemy import Row
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from engine.models import CannedResponse, Contact, Conversation, Message, Operator, Role, Visibility
from engine.service.errors import NotFound
from knowledge.errors import InputError

PLACEHOLDERS = ("contact.name", "contact.email", "operator.name", "conversation.id", "order.number")
# The public turns (the visitor's, the bot's, the operators') read for ``{order.number}`` and, by the
# drafts, for a draft's history: the latest ones only, so a draft or an inserted reply costs the same
# at the 10th and the 5,000th turn.
RECENT_TURNS = 200

# "order 123456", "order no. AB-1234", "order #98765", "#A1B2C3D4" (an order word or a hash sign
# before a code with at least three digits, so phone numbers and dates are not taken).
_ORDER = re.compile(
    r"(?:\b(?:order|ord|bestellung|pedido|commande|ordine)\b[^\w#]{0,3}(?:n[or]\.?|number|num|nummer)?"
    r"[^\w#]{0,3}#?|#)\s?(?P<code>(?=[A-Z0-9-]*\d[A-Z0-9-]*\d[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{3,23})\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"\w+", re.UNICODE)


def order_numbers(texts: Iterable[str]) -> list[str]:
    """Order numbers in the visitor's words, in the order given."""
    return [m.group("code") for text in texts for m in _ORDER.finditer(text)]


def _parse(text: str) -> list[tuple[str, str | None]]:
    """(literal text, placeholder name or None) pairs; ``{{`` and ``}}`` are literal braces."""
    try:
        return [(literal, name) for literal, name, _, _ in string.Formatter().parse(text)]
    except ValueError as exc:
        raise InputError(f"malformed placeholder in canned reply: {exc}", field="text") from None


def placeholders(text: str) -> list[str]:
    """The placeholder names a canned text uses; `InputError` for a malformed brace."""
    return [name for _, name in _parse(text) if name is not None]


def check(text: str) -> None:
    """Refuse unknown placeholders when a canned reply is saved, not when it is first used."""
    for name in placeholders(text):
        if name not in PLACEHOLDERS:
            raise InputError(f"unknown placeholder {{{name}}}; known: "
                             + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS), field=name)


def fill(text: str, values: Mapping[str, str | None]) -> str:
    """``text`` with every placeholder replaced from ``values``."""
    check(text)
    missing = [name for name in placeholders(text) if not values.get(name)]
    if missing:
        raise InputError(f"no value for {{{missing[0]}}} in this conversation", field=missing[0])
    return "".join(literal + (str(values[name]) if name is not None else "")
                   for literal, name in _parse(text))


@dataclass(frozen=True)
class Prefilled:
    """A canned text with every placeholder that has a value filled; ``missing`` names those left in
    it as written (``{order.number}``), for the operator to fill before sending."""

    text: str
    missing: list[str]


def prefill(text: str, values: Mapping[str, str | None]) -> Prefilled:
    """``text`` with the placeholders ``values`` has filled and the others kept: one missing value
    never leaves the rest unfilled (the console blocks sending while any remains)."""
    check(text)
    parts, missing = [], []
    for literal, name in _parse(text):  # literals come back with "{{" already read as "{"
        parts.append(literal)
        if name is None:
            continue
        if values.get(name):
            parts.append(str(values[name]))
        else:
            parts.append(f"{{{name}}}")
            missing.append(name)
    return Prefilled("".join(parts), list(dict.fromkeys(missing)))


def values_for(session: Session, conversation_id: int, operator_id: int | None) -> dict[str, str | None]:
    """What the placeholders mean in one conversation, for the operator who will send it."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    contact = session.get(Contact, conversation.contact_id)
    operator = session.get(Operator, operator_id) if operator_id is not None else None
    return values(conversation_id, contact.name if contact else None, contact.email if contact else None,
                  operator.name if operator else None, recent_words(session, conversation_id))


def recent_words(session: Session, conversation_id: int) -> list[str]:
    """What the visitor said, oldest first, in the conversation's latest ``RECENT_TURNS`` public
    turns (where their order numbers are read from)."""
    latest = session.exec(select(Message.role, Message.text)
                          .where(Message.conversation_id == conversation_id, Message.role != Role.system,
                                 Message.visibility == Visibility.public)
                          .order_by(col(Message.seq).desc()).limit(RECENT_TURNS)).all()
    return [text for role, text in reversed(latest) if role == Role.visitor]


def values(conversation_id: int, contact_name: str | None, contact_email: str | None,
           operator_name: str | None, said: Iterable[str]) -> dict[str, str | None]:
    """The placeholders' values from what was read (``said``: the visitor's public words, in order)."""
    orders = order_numbers(said)
    return {"contact.name": contact_name, "contact.email": contact_email, "operator.name": operator_name,
            "conversation.id": str(conversation_id), "order.number": orders[-1] if orders else None}


def render(session: Session, canned_id: int, conversation_id: int, operator_id: int | None) -> str:
    return fill(_canned(session, canned_id).text, values_for(session, conversation_id, operator_id))


def render_partial(session: Session, canned_id: int, conversation_id: int,
                   operator_id: int | None) -> Prefilled:
    """What the console inserts: filled where this conversation has values, the rest named."""
    return prefill(_canned(session, canned_id).text, values_for(session, conversation_id, operator_id))


def _canned(session: Session, canned_id: int) -> CannedResponse:
    canned = session.get(CannedResponse, canned_id)
    if canned is None:
        raise NotFound(f"canned reply {canned_id} does not exist")
    return canned


def _tokens(text: str) -> set[str]:
    return {w.casefold() for w in _WORD.findall(text) if len(w) > 2}


class Reply(Protocol):
    """What matching reads of a canned reply: a ``CannedResponse``, or its row as :func:`replies` reads it."""

    @property
    def shortcut(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def tags(self) -> list[str]: ...


@dataclass(frozen=True)
class Match:
    canned: Reply
    score: float


def rank(items: Sequence[CannedResponse], query: str) -> list[Match]:
    """Shortcut prefix first (``/ref`` or ``ref`` finds ``/refund``), then any other part of the
    shortcut (``/und``), then title, text and tags containing every word of the query; ties by
    shortcut."""
    q = query.strip().lstrip("/").casefold()
    words = _tokens(q) or ({q} if q else set())
    matches = []
    for item in items:
        haystack = f"{item.title} {item.text} {' '.join(item.tags)}".casefold()
        shortcut = item.shortcut.lstrip("/").casefold()
        if not q:
            score = 0.0
        elif shortcut.startswith(q):
            score = 3.0
        elif q in shortcut:
            score = 2.5
        elif q in item.title.casefold():
            score = 2.0
        elif words and all(w in haystack for w in words):
            score = 1.0
        else:
            continue
        matches.append(Match(item, score))
    return sorted(matches, key=lambda m: (-m.score, m.canned.shortcut))


def search(session: Session, query: str = "", limit: int = 20) -> list[CannedResponse]:
    return [m.canned for m in rank(session.exec(select(CannedResponse)).all(), query)[:limit]]


_CANNED = CannedResponse.__table__  # type: ignore[attr-defined]
_REPLIES = core_select(_CANNED.c.shortcut, _CANNED.c.title, _CANNED.c.text, _CANNED.c.tags)


def replies(session: Session) -> list[Row[tuple[str, str, str, list[str]]]]:
    """Every canned reply as a plain row (what :func:`best_for` reads), without ORM objects: drafting
    reads them for every visitor message."""
    return list(session.connection().execute(_REPLIES).all())


def _share(said: frozenset[str], words: frozenset[str]) -> float:
    return len(said & words) / len(words) if words else 0.0


@lru_cache(maxsize=4096)
def _reply_words(title: str, tags: tuple[str, ...], text: str) -> tuple[frozenset[str], frozenset[str]]:
    """A canned reply's (title and tags, text) words: read once per version of the reply and
    process, not once per visitor message times every reply."""
    return frozenset(_tokens(f"{title} {' '.join(tags)}")), frozenset(_tokens(text))


def best_for(items: Sequence[Reply], visitor_text: str, minimum: float = 0.2) -> Match | None:
    """The canned reply whose words overlap most with what the visitor said (share of the canned
    title and tags words present, weighted with the text's, 0..1), or None below ``minimum``."""
    said = frozenset(_tokens(visitor_text))
    if not said:
        return None
    best, best_score = None, 0.0
    for item in items:
        key, body = _reply_words(item.title, tuple(item.tags), item.text)
        if not key and not body:
            continue
        score = 0.7 * _share(said, key) + 0.3 * _share(said, body)
        if score > best_score:
            best, best_score = item, score
    return Match(best, best_score) if best is not None and best_score >= minimum else None
