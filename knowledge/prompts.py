"""The messages sent to the language model, and how the built-in answerer reads them back.

The retrieved passages travel in the system message as a numbered list, so one prompt serves a
real model and the built-in extractive provider alike: the provider parses the same text a model
would read. A model that finds no answer in the passages replies with ``NO_ANSWER``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

NO_ANSWER = "NO_ANSWER"
Task = Literal["answer", "continuation"]
TASK_LINE = re.compile(r"^Task: (answer|continuation)$", re.MULTILINE)
PASSAGE_START = re.compile(r"^\[(\d+)\] (.*)$")
PASSAGES_HEADER = "Passages:"

INSTRUCTIONS: dict[str, str] = {
    "answer": (
        "You are a customer-support assistant. Answer the customer's last message using only the "
        "numbered passages below. Keep it short and concrete, in the customer's language. Cite the "
        "passages you use like [1]. If the passages do not answer the question, reply with exactly "
        f"{NO_ANSWER} and nothing else."),
    "continuation": (
        "You are drafting the next reply a human support agent will send in this conversation. "
        "Follow on from what the customer said last, acknowledge their situation briefly, and use the "
        "numbered passages below where they help, citing them like [1]. Never invent policies, "
        "amounts or dates that are not in the passages. Write only the reply."),
}
# Who sends the reply decides what it may say about people taking over (knowledge.promises).
WRITER: dict[bool, str] = {
    False: ("Never say that you will pass, transfer or connect the customer to a person, or that someone "
            "will contact them: whether a person takes over is decided elsewhere. If a passage itself "
            "says that a person handles this, say so in the passage's words."),
    True: ("A person from the support team sends this reply, so never say that the customer will be "
           "passed, transferred or connected to a person."),
}


@dataclass
class Passage:
    number: int
    heading: str
    text: str


def passage_heading(title: str, heading_path: Sequence[str]) -> str:
    return " > ".join(dict.fromkeys(part for part in (title, *heading_path) if part))


def build_messages(question: str, passages: Sequence[tuple[str, str]], history: Iterable[Any] = (),
                   task: Task = "answer", for_operator: bool = False) -> list[dict[str, str]]:
    """System prompt with numbered ``(heading, text)`` passages, the history, then the question.
    ``for_operator``: an operator sends the reply (a draft), not the bot.

    ``history`` items are handoff ``Turn``-like objects (``.role``, ``.text``) or dicts with
    ``role`` and ``text``/``content``; user turns stay ``user``, bot and agent turns become
    ``assistant``.
    """
    listed = "\n\n".join(f"[{n}] {heading}\n{text.strip()}" for n, (heading, text) in enumerate(passages, 1))
    system = (f"{INSTRUCTIONS[task]} {WRITER[for_operator]}\nTask: {task}\n\n"
              f"{PASSAGES_HEADER}\n{listed or '(none)'}")
    messages = [{"role": "system", "content": system}]
    for turn in history:
        role, text = _turn(turn)
        if text:
            messages.append({"role": "user" if role == "user" else "assistant", "content": text})
    if question:
        messages.append({"role": "user", "content": question})
    return messages


def read_messages(messages: Sequence[dict[str, Any]]) -> tuple[Task, list[Passage], list[dict[str, str]]]:
    """The task, the passages and the conversation (without the system message) of a prompt."""
    system = next((str(m.get("content") or "") for m in messages if m.get("role") == "system"), "")
    match = TASK_LINE.search(system)
    task: Task = match.group(1) if match else "answer"  # type: ignore[assignment]
    passages: list[Passage] = []
    _, _, listed = system.partition(f"\n{PASSAGES_HEADER}\n")
    for line in listed.splitlines():
        if start := PASSAGE_START.match(line):
            passages.append(Passage(int(start.group(1)), start.group(2), ""))
        elif passages:
            passages[-1].text = f"{passages[-1].text}\n{line}".strip()
    conversation = [{"role": str(m["role"]), "content": str(m.get("content") or "")}
                    for m in messages if m.get("role") != "system"]
    return task, passages, conversation


def _turn(turn: Any) -> tuple[str, str]:
    if isinstance(turn, dict):
        return str(turn.get("role", "user")), str(turn.get("text") or turn.get("content") or "")
    return str(getattr(turn, "role", "user")), str(getattr(turn, "text", "") or "")
