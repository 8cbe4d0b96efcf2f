"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

from engine.db import current_revision, make_engine, upgrade


def _differences(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, SQLModel.metadata))
    finally:
        engine.dispose()


def test_migrations_match_models_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    upgrade(url)
    assert current_revision(url) is not None
    assert _differences(url) == []


@pytest.mark.postgres
def test_migrations_match_models_on_postgres(fresh_postgres_url: str) -> None:
    upgrade(fresh_postgres_url)
    assert current_revision(fresh_postgres_url) is not None
    assert _differences(fresh_postgres_url) == []
