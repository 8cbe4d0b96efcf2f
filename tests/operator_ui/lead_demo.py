"""``python -m tests.operator_ui.lead_demo URL`` writes a simulated week of traffic (ending an hour
ago, ten named operators with three chats each, tags, topics and ratings) and two teams into the
database at ``URL``, for the lead's screenshots (``operator_ui.lead_screenshots``)."""

from __future__ import annotations

import sys

from engine.db import make_engine, session_scope
from engine.models import Team
from tests.engine.staffing.desk import seeded_week, store
from tests.operator_ui.test_staffing import a_week_ago

NAMES = ("Sam Rivera", "Greta Berg", "Priya Shah", "Tom Becker", "Ana Lima", "Kenji Mori", "Lena Vogt",
         "Omar Haddad", "Zoe Clark", "Ivan Petrov")


def main(argv: list[str]) -> int:
    url = argv[0]
    store(url, seeded_week(start=a_week_ago()), names=NAMES, issues=True)
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
