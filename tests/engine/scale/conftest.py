"""Two ``baton serve`` workers on one PostgreSQL database and one Redis, for the whole session.

The presence grace and the routing interval are short so that hand-backs and heartbeats happen
within a test; everything else is as deployed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.engine.scale.cluster import Cluster, running_cluster

GRACE_SECONDS = 3.0
INTERVAL_SECONDS = 0.5


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with running_cluster(tmp_path_factory.mktemp("cluster"), workers=2,
                         presence_grace_seconds=str(GRACE_SECONDS),
                         routing_interval_seconds=str(INTERVAL_SECONDS)) as running:
        yield running
