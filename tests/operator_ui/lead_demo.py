"""``python -m tests.operator_ui.lead_demo URL`` writes four simulated weeks of traffic (up to last
midnight, ten named operators with three chats each, tags, topics and ratings) and two teams into
the database at ``URL``, for the lead's screenshots (``operator_ui.lead_screenshots``)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

from engine.db import make_engine, session_scope
from engine.models import Team
from tests.engine.staffing.desk import seeded_week, store

WEEKS = 4
NAMES = ("Sam Rivera", "Greta Berg", "Priya Shah", "Tom Becker", "Ana Lima", "Kenji Mori", "Lena Vogt",
         "Omar Haddad", "Zoe Clark", "Ivan Petrov")


def main(argv: list[str]) -> int:
    url = argv[0]
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    served = [s for week in range(WEEKS)
              for s in seeded_week(seed=week, start=midnight - timedelta(days=7 * (WEEKS - week)))]
    store(url, served, names=NAMES, issues=True)
    engine = make_engine(url)
    with session_scope(engine) as session:
        overflow = Team(name="Overflow", skills=[])
        session.add(overflow)
        session.flush()
        session.add(Team(name="Billing", skills=["topic:billing"], backup_team_id=overflow.id,
                         overflow_after_seconds=120))
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
