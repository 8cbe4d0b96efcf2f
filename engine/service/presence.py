"""Presence: online, away, offline, and what happens to an operator's conversations.

* ``online``: takes new conversations (routing only picks online operators).
* ``away``: keeps the conversations they own, gets no new ones.
* ``offline``, or no live connection for longer than the grace period: their open
  conversations go back to the queue (through the conversation service), so a visitor is never
  left with an owner who is gone. A short drop (a reload, a flaky network) inside the grace
  period changes nothing.

Connections are counted per worker by `PresenceTracker` (an operator may have several tabs);
each worker's periodic task writes ``last_seen_at`` for the operators connected to it, so the
hand-back decision reads only the database and holds with many workers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

ONLINE, AWAY, OFFLINE = "online", "away", "offline"
STATUSES = (ONLINE, AWAY, OFFLINE)
DEFAULT_GRACE_SECONDS = 60.0


@dataclass(frozen=True)
class PresenceSnapshot:
    operator_id: int
    status: str
    last_seen_at: datetime | None
    open_conversations: int = 0


def is_gone(snapshot: PresenceSnapshot, now: datetime, grace_seconds: float = DEFAULT_GRACE_SECONDS) -> bool:
    """Offline by choice, or not seen by any worker for longer than the grace period."""
    if snapshot.status == OFFLINE:
        return True
    if snapshot.last_seen_at is None:
        return True
    return (now - snapshot.last_seen_at).total_seconds() > grace_seconds


def due_for_handback(snapshots: Iterable[PresenceSnapshot], now: datetime,
                     grace_seconds: float = DEFAULT_GRACE_SECONDS) -> list[int]:
    """Operators whose open conversations must return to the queue now."""
    return sorted(s.operator_id for s in snapshots
                  if s.open_conversations > 0 and is_gone(s, now, grace_seconds))


def status_after_grace(snapshot: PresenceSnapshot, now: datetime,
                       grace_seconds: float = DEFAULT_GRACE_SECONDS) -> str:
    """The status to show: an online or away operator not seen within the grace period is offline."""
    return OFFLINE if is_gone(snapshot, now, grace_seconds) else snapshot.status


class PresenceTracker:
    """Live WebSocket connections per operator on this worker (several tabs count once)."""

    def __init__(self) -> None:
        self._connections: dict[int, int] = {}

    def connected(self, operator_id: int) -> int:
        self._connections[operator_id] = self._connections.get(operator_id, 0) + 1
        return self._connections[operator_id]

    def disconnected(self, operator_id: int) -> int:
        left = max(0, self._connections.get(operator_id, 0) - 1)
        if left:
            self._connections[operator_id] = left
        else:
            self._connections.pop(operator_id, None)
        return left

    def live(self) -> set[int]:
        """Operators with at least one open connection here: the periodic task refreshes their
        ``last_seen_at``."""
        return set(self._connections)


TRACKER = PresenceTracker()
"""This worker's connections: one per process, like the sockets it counts."""


def connected(operator_id: int) -> None:
    """Called by the operator WebSocket when it opens."""
    TRACKER.connected(operator_id)


def disconnected(operator_id: int) -> None:
    """Called by the operator WebSocket when it closes. Nothing is handed back here: the periodic
    task does it once the operator has been unseen for longer than the grace period."""
    TRACKER.disconnected(operator_id)
