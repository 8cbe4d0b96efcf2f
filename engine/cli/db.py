"""``baton db``: schema migrations (Alembic) for the configured database."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("db", help="database schema: upgrade, current revision")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    upgrade = actions.add_parser("upgrade", help="apply every migration up to REVISION (default head)")
    upgrade.add_argument("revision", nargs="?", default="head")
    upgrade.set_defaults(func=run_upgrade)
    current = actions.add_parser("current", help="print the schema revision of the database")
    current.set_defaults(func=run_current)


def run_upgrade(args: argparse.Namespace) -> int:
    from engine.db import current_revision, upgrade
    from engine.settings import get_settings

    url = get_settings().database_url
    upgrade(url, args.revision)
    print(f"baton db: {url.split('@')[-1]} at revision {current_revision(url)}")
    return 0


def run_current(args: argparse.Namespace) -> int:
    from engine.db import current_revision
    from engine.settings import get_settings

    print(current_revision(get_settings().database_url) or "empty (run `baton db upgrade`)")
    return 0
