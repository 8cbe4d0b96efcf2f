"""Operators, teams and canned responses: accounts, passwords (argon2) and signed login tokens.

A login token is ``<operator id>.<expiry>.<HMAC-SHA256 signature>`` keyed by the secret key: no
token table, no lookup to verify, and it stops working at its expiry or when the key changes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, SQLModel, col, select

from engine.models import (
    CannedResponse,
    CannedResponseCreate,
    Operator,
    OperatorCreate,
    OperatorRole,
    Team,
    TeamCreate,
)
from engine.service import canned as canned_replies
from engine.service.errors import Conflict, NotFound

_HASHER = PasswordHasher()
DEMO_ACCOUNTS = (
    ("operator@example.com", "Demo Operator", "operator-demo", OperatorRole.operator),
    ("supervisor@example.com", "Demo Supervisor", "supervisor-demo", OperatorRole.supervisor),
    ("admin@example.com", "Demo Admin", "admin-demo", OperatorRole.admin),
)


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _sign(secret: str, payload: str) -> str:
    digest = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def issue_token(secret: str, operator_id: int, ttl_seconds: int, now: float | None = None) -> str:
    expires = int((now or time.time()) + ttl_seconds)
    payload = f"{operator_id}.{expires}"
    return f"{payload}.{_sign(secret, payload)}"


def read_token(secret: str, token: str, now: float | None = None) -> int | None:
    """The operator id a valid, unexpired token names; None for anything else."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    payload = f"{parts[0]}.{parts[1]}"
    if not hmac.compare_digest(_sign(secret, payload), parts[2]):
        return None
    if int(parts[1]) < (now or time.time()):
        return None
    return int(parts[0])


def authenticate(session: Session, email: str, password: str) -> Operator | None:
    operator = session.exec(select(Operator).where(Operator.email == email.strip().lower())).first()
    if operator is None:
        _HASHER.hash(password)  # spend the same time whether or not the account exists
        return None
    return operator if verify_password(operator.password_hash, password) and operator.active else None


def create_operator(session: Session, data: OperatorCreate) -> Operator:
    if session.exec(select(Operator).where(Operator.email == data.email)).first() is not None:
        raise Conflict(f"an operator with email {data.email} already exists")
    if data.team_id is not None and session.get(Team, data.team_id) is None:
        raise NotFound(f"team {data.team_id} does not exist")
    operator = Operator.model_validate(data, update={"password_hash": hash_password(data.password)})
    session.add(operator)
    session.flush()
    return operator


def ensure_demo_operators(session: Session) -> list[tuple[Operator, str]]:
    """The demo operator and admin, created once; returns them with their passwords."""
    accounts = []
    for email, name, password, role in DEMO_ACCOUNTS:
        operator = session.exec(select(Operator).where(Operator.email == email)).first()
        if operator is None:
            operator = create_operator(session, OperatorCreate(email=email, name=name, password=password,
                                                               role=role))
        accounts.append((operator, password))
    return accounts


def create_team(session: Session, data: TeamCreate) -> Team:
    if data.backup_team_id is not None and session.get(Team, data.backup_team_id) is None:
        raise NotFound(f"backup team {data.backup_team_id} does not exist")
    team = Team.model_validate(data)
    session.add(team)
    session.flush()
    return team


def create_canned(session: Session, data: CannedResponseCreate) -> CannedResponse:
    if session.exec(select(CannedResponse).where(CannedResponse.shortcut == data.shortcut)).first():
        raise Conflict(f"a canned response with shortcut {data.shortcut!r} already exists")
    canned_replies.check(data.text)  # an unknown placeholder is refused when saved, not when first used
    canned = CannedResponse.model_validate(data)
    session.add(canned)
    session.flush()
    return canned


P = TypeVar("P", bound=SQLModel)


def listing(session: Session, table: type[SQLModel], public: type[P]) -> list[P]:
    """Every row of an admin table (operators, teams, canned replies) as its public shape, by id."""
    rows = session.exec(select(table).order_by(col(table.id))).all()  # type: ignore[attr-defined]
    return [public.model_validate(row, from_attributes=True) for row in rows]

