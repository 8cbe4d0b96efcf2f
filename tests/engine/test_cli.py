"""``baton db`` and ``baton users`` as a person runs them, in a fresh folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from alembic.script import ScriptDirectory

from engine.db import alembic_config
from engine.service.operators import DEMO_ACCOUNTS


def baton(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BATON_DATABASE_URL": f"sqlite:///{cwd / 'var' / 'baton.db'}"}
    command = [str(Path(sys.executable).parent / "baton"), *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_upgrade_then_demo_users_twice_prints_the_same_logins(tmp_path: Path) -> None:
    upgraded = baton("db", "upgrade", cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert f"at revision {head}" in upgraded.stdout
    first = baton("users", "demo", cwd=tmp_path)
    second = baton("users", "demo", cwd=tmp_path)
    assert first.returncode == 0 and first.stdout == second.stdout
    for email, _name, password, _role in DEMO_ACCOUNTS:
        assert email in first.stdout and password in first.stdout
    listed = baton("users", "list", cwd=tmp_path)
    listed_emails = [line.split("\t")[1] for line in listed.stdout.splitlines()]
    assert listed_emails == ["operator@example.com", "supervisor@example.com", "admin@example.com"]


def test_a_bad_email_is_refused_with_exit_status_2(tmp_path: Path) -> None:
    baton("db", "upgrade", cwd=tmp_path)
    added = baton("users", "add", "not-an-email", "--name", "X", "--password", "long-enough", cwd=tmp_path)
    assert added.returncode == 2 and "not an email address" in added.stderr and "email" in added.stderr
