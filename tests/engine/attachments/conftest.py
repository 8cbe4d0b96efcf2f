"""The attachment tests' servers: the channels' stand-ins (tests/engine/channels) and an engine whose
``public_url`` is its own address, so signed links in its replies work when a provider follows them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from engine.service.bot import Bot
from engine.settings import Settings
from tests.engine.channels.conftest import (  # noqa: F401 (mailbox, provider: fixtures)
    Mailbox,
    Provider,
    channel_settings,
    mailbox,
    provider,
)
from tests.engine.conftest import Server, free_port, postgres_database, run_server


@pytest.fixture(scope="module")
def files_server(database_url: str, bot_settings: Settings, bot: Bot, provider: Provider,  # noqa: F811
                 mailbox: Mailbox,  # noqa: F811 (the fixtures imported above)
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    port = free_port()
    with ExitStack() as stack:
        own = f"sqlite:///{tmp_path_factory.mktemp('files') / 'files.db'}" if "sqlite" in database_url \
            else stack.enter_context(postgres_database())
        settings = channel_settings(bot_settings, provider, mailbox, database_url=own,
                                    public_url=f"http://127.0.0.1:{port}")
        yield from run_server(settings, bot, port)
