"""The handoff data loader: every malformed line stops the run with its file, line and field."""

from __future__ import annotations

import json

import pytest

from eval.conversations import load_conversations
from knowledge import InputError

GOOD = {
    "id": "c-1",
    "turns": [
        {"role": "user", "text": "hi"},
        {"role": "bot", "text": "hello"},
        {"role": "user", "text": "get me a person"},
    ],
    "escalate": True,
    "reason": "explicit_request",
    "escalate_turn": 1,
    "label_strength": "gold",
    "source": "test",
}


def write(tmp_path, *rows) -> str:
    path = tmp_path / "data.jsonl"
    path.write_text("\n".join(row if isinstance(row, str) else json.dumps(row) for row in rows) + "\n")
    return str(path)


def test_loads_a_good_file(tmp_path):
    [conversation] = load_conversations(write(tmp_path, GOOD))
    assert conversation.escalate_turn == 1 and conversation.reason == "explicit_request"
    assert [turn.role for turn in conversation.turns] == ["user", "bot", "user"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"reason": "angry"}, "reason"),
        ({"escalate_turn": 2}, "escalate_turn"),
        ({"escalate": "yes"}, "escalate"),
        ({"reason": "none"}, "reason"),
        ({"turns": [{"role": "robot", "text": "x"}]}, "turns[0].role"),
        ({"turns": [{"role": "user"}]}, "turns[0].text"),
        ({"label_strength": "strong"}, "label_strength"),
        ({"turns": [{"role": "user", "text": "x", "at": "yesterday"}]}, "turns[0].at"),
        ({"turns": [{"role": "user", "text": "x", "at": 1700000000}]}, "turns[0].at"),
    ],
)
def test_bad_field_is_named_with_its_line(tmp_path, change, field):
    with pytest.raises(InputError) as error:
        load_conversations(write(tmp_path, GOOD, {**GOOD, "id": "c-2", **change}))
    assert error.value.line == 2 and error.value.field == field
    assert str(error.value).startswith(f"{tmp_path / 'data.jsonl'}:2:")


def test_turn_times_are_read_with_or_without_a_zone(tmp_path):
    row = {
        **GOOD,
        "turns": [
            {"role": "user", "text": "hi", "at": "2026-03-02T09:00:00Z"},
            {"role": "bot", "text": "hello", "at": "2026-03-02T09:00:02+00:00"},
            {"role": "user", "text": "get me a person", "at": "2026-03-02T09:20:02"},
        ],
    }
    [conversation] = load_conversations(write(tmp_path, row))
    first, answer, again = conversation.turns
    assert first.at.tzinfo is not None and again.at.tzinfo is not None  # no zone: read as UTC
    assert (again.at - answer.at).total_seconds() == 1200
    [plain] = load_conversations(write(tmp_path, GOOD))
    assert all(turn.at is None for turn in plain.turns)


def test_broken_json_line_is_reported(tmp_path):
    with pytest.raises(InputError) as error:
        load_conversations(write(tmp_path, GOOD, '{"id": "c-2", "turns": ['))
    assert error.value.line == 2 and "JSON" in str(error.value)


def test_agent_turn_ends_the_replayed_turns(tmp_path):
    row = {
        **GOOD,
        "turns": [
            {"role": "user", "text": "a"},
            {"role": "agent", "text": "b"},
            {"role": "user", "text": "c"},
        ],
        "escalate_turn": 0,
    }
    [conversation] = load_conversations(write(tmp_path, row))
    assert conversation.replayed_user_turns() == [0]
