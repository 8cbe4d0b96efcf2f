"""Two ``baton serve`` workers on one PostgreSQL and one Redis: a text arrives at one, the operator
answers on the other, and every reply reaches the visitor exactly once (both workers follow the
conversation; the delivery claim lets one of them send)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.engine.channels.conftest import (
    SMS_SID,
    SMS_TOKEN,
    Provider,
    Recorded,
    new_phone,
    operator_post,
    post_sms,
    serve_provider,
)
from tests.engine.scale.cluster import Cluster, running_cluster

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


@pytest.fixture(scope="module")
def cluster_provider() -> Iterator[Provider]:
    yield from serve_provider()


@pytest.fixture(scope="module")
def sms_cluster(tmp_path_factory: pytest.TempPathFactory, cluster_provider: Provider) -> Iterator[Cluster]:
    with running_cluster(tmp_path_factory.mktemp("sms-cluster"), workers=2,
                         sms_provider_url=cluster_provider.url, sms_account_sid=SMS_SID,
                         sms_auth_token=SMS_TOKEN, delivery_sweep_seconds="1") as cluster:
        yield cluster


def test_a_text_on_one_worker_and_the_reply_from_another_each_go_out_once(
        sms_cluster: Cluster, cluster_provider: Provider) -> None:
    first, second = sms_cluster.workers
    phone = new_phone()
    assert post_sms(first, phone, "my parcel never arrived").status_code == 200

    def to_phone(r: Recorded) -> bool:
        return r.form().get("To") == phone

    notice = cluster_provider.wait_for(lambda r: to_phone(r) and "person" in r.form()["Body"], timeout=60)
    assert "bringing in a person" in notice.form()["Body"]  # no knowledge base here: a person answers
    [(conversation_id,)] = sms_cluster.sql(
        "SELECT c.id FROM conversation c JOIN contactidentity i ON i.contact_id = c.contact_id "
        "WHERE i.channel = 'sms' AND i.external_id = %s", phone)

    operator = second.new_operator(name="Lee")
    operator_post(second, operator["token"], f"/api/operator/conversations/{conversation_id}/reply",
                  {"text": "Lee here: a new parcel leaves today."})
    cluster_provider.wait_for(lambda r: to_phone(r) and "Lee here" in r.form()["Body"], timeout=60)
    time.sleep(2.5)  # two sweeps on each worker: time enough for a duplicate to show

    bodies = [r.form()["Body"] for r in cluster_provider.matching(to_phone)]
    assert len(bodies) == len(set(bodies)), bodies
    assert sum("Lee here" in b for b in bodies) == 1 and sum("Lee joined" in b for b in bodies) == 1
    states = sms_cluster.sql("SELECT status, attempts FROM channeldelivery WHERE conversation_id = %s "
                             "AND direction = 'out'", conversation_id)
    assert states and all(state == ("sent", 1) for state in states), states
