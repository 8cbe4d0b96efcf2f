"""The handoff evaluation set of EVAL_FORMAT.md: one labelled conversation per JSONL line.

Every line is checked; the first unusable one stops the run with its file, line and field
(``InputError``, exit status 2). Nothing is skipped silently.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from handoff import Turn
from knowledge import InputError

REASONS = ("explicit_request", "frustration", "low_confidence", "none")
ROLES = ("user", "bot", "agent")
STRENGTHS = ("gold", "soft")


@dataclass
class Conversation:
    id: str
    turns: list[Turn]
    escalate: bool
    reason: str
    escalate_turn: int | None
    label_strength: str = "gold"
    source: str = ""

    def replayed_user_turns(self) -> list[int]:
        """Positions in ``turns`` of the user turns the replay walks: those before any agent turn."""
        positions = []
        for position, turn in enumerate(self.turns):
            if turn.role == "agent":
                break
            if turn.role == "user":
                positions.append(position)
        return positions


def load_conversations(path: str | Path) -> list[Conversation]:
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except FileNotFoundError as exc:
        raise InputError("no such file", path=str(path)) from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})", path=str(path)) from exc
    conversations: list[Conversation] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        conversation = parse_line(line, path=str(path), line=number)
        if conversation.id in seen:
            raise InputError(f"duplicate id {conversation.id!r}", path=str(path), line=number, field="id")
        seen.add(conversation.id)
        conversations.append(conversation)
    if not conversations:
        raise InputError("no conversations", path=str(path))
    return conversations


def parse_line(text: str, *, path: str, line: int) -> Conversation:
    where = {"path": path, "line": line}
    try:
        row = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON ({exc.msg})", **where) from exc
    return _conversation(row, where)


def _conversation(row: Any, where: dict) -> Conversation:
    if not isinstance(row, dict):
        raise InputError("expected a JSON object", **where)
    identifier = _required(row, "id", (str, int), where)
    turns_raw = _required(row, "turns", list, where)
    turns: list[Turn] = []
    for index, turn in enumerate(turns_raw):
        field = f"turns[{index}]"
        if not isinstance(turn, dict):
            raise InputError("expected an object with role and text", field=field, **where)
        role, text = turn.get("role"), turn.get("text")
        if role not in ROLES:
            raise InputError(
                f"role must be one of {', '.join(ROLES)}, got {role!r}", field=f"{field}.role", **where
            )
        if not isinstance(text, str):
            raise InputError("text must be a string", field=f"{field}.text", **where)
        turns.append(Turn(role=role, text=text, at=_time(turn.get("at"), f"{field}.at", where)))
    users = sum(turn.role == "user" for turn in turns)
    if users == 0:
        raise InputError("a conversation needs at least one user turn", field="turns", **where)
    escalate = _required(row, "escalate", bool, where)
    reason = row.get("reason", "none" if not escalate else None)
    if reason not in REASONS:
        raise InputError(
            f"reason must be one of {', '.join(REASONS)}, got {reason!r}", field="reason", **where
        )
    if (reason == "none") == escalate:
        raise InputError("reason is 'none' exactly when escalate is false", field="reason", **where)
    escalate_turn = row.get("escalate_turn")
    if escalate:
        if (
            not isinstance(escalate_turn, int)
            or isinstance(escalate_turn, bool)
            or not 0 <= escalate_turn < users
        ):
            raise InputError(
                f"escalate_turn must be a user-turn index in 0..{users - 1}, got {escalate_turn!r}",
                field="escalate_turn",
                **where,
            )
    elif escalate_turn is not None:
        raise InputError("escalate_turn must be null when escalate is false", field="escalate_turn", **where)
    strength = row.get("label_strength", "gold")
    if strength not in STRENGTHS:
        raise InputError(
            f"label_strength must be gold or soft, got {strength!r}", field="label_strength", **where
        )
    source = row.get("source", "")
    if not isinstance(source, str):
        raise InputError("source must be a string", field="source", **where)
    return Conversation(str(identifier), turns, escalate, reason, escalate_turn, strength, source)


def _time(value: Any, field: str, where: dict) -> datetime | None:
    """A turn's optional ``at``: ISO 8601; a time without a zone is read as UTC."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(f"at must be an ISO 8601 string, got {type(value).__name__}", field=field, **where)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InputError(f"at is not an ISO 8601 time: {value!r}", field=field, **where) from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _required(row: dict, name: str, kind: type | tuple[type, ...], where: dict) -> Any:
    if name not in row:
        raise InputError("missing", field=name, **where)
    value = row[name]
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise InputError(f"wrong type {type(value).__name__}", field=name, **where)
    return value
