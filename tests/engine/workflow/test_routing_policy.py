"""Each routing rule on snapshots: no database needed, so every rule is pinned down exactly."""

from __future__ import annotations

from datetime import datetime, timedelta

from engine.service.policy import (
    OperatorSnapshot,
    QueuedSnapshot,
    TeamSnapshot,
    allowed_teams,
    available,
    derive_skills,
    pick_operator,
    plan,
    queue_order,
    reopen_to,
)

NOW = datetime(2026, 1, 5, 12, 0, 0)


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


def conv(id: int, waited: float = 0, **kw) -> QueuedSnapshot:
    return QueuedSnapshot(id=id, queued_at=ago(waited), **kw)


def test_skills_come_from_packet_topics_language_and_channel() -> None:
    packet = {"language": "en-GB", "topics": ["orders"],
              "attempts": [{"answer": "...",
                            "articles": [{"title": "Refunds", "tags": ["Billing", "refunds"]}]}]}
    assert derive_skills(packet, channel="sms", tags=["vip"]) == [
        "channel:sms", "lang:en", "topic:billing", "topic:orders", "topic:refunds", "topic:vip"]
    assert derive_skills(None) == []


def test_more_matching_skills_beat_lower_load() -> None:
    c = conv(1, skills=frozenset({"topic:billing", "channel:sms"}))
    generalist = OperatorSnapshot(id=1, load=0)
    specialist = OperatorSnapshot(id=2, load=2, skills=frozenset({"topic:billing"}))
    assert pick_operator(c, [generalist, specialist], {}, NOW).id == 2


def test_team_skills_count_for_their_members() -> None:
    teams = {7: TeamSnapshot(id=7, skills=frozenset({"topic:billing"}))}
    c = conv(1, skills=frozenset({"topic:billing"}))
    ops = [OperatorSnapshot(id=1), OperatorSnapshot(id=2, team_id=7, load=1)]
    assert pick_operator(c, ops, teams, NOW).id == 2


def test_language_is_a_hard_requirement() -> None:
    c = conv(1, skills=frozenset({"lang:de", "topic:billing"}))
    english = OperatorSnapshot(id=1, skills=frozenset({"lang:en", "topic:billing"}))
    assert pick_operator(c, [english], {}, NOW) is None
    german = OperatorSnapshot(id=2, skills=frozenset({"lang:de"}), load=2)
    assert pick_operator(c, [english, german], {}, NOW).id == 2


def test_only_online_operators_below_capacity_take_work() -> None:
    c = conv(1)
    ops = [OperatorSnapshot(id=1, status="away"), OperatorSnapshot(id=2, status="offline"),
           OperatorSnapshot(id=3, capacity=2, load=2), OperatorSnapshot(id=4, capacity=0)]
    assert pick_operator(c, ops, {}, NOW) is None
    assert pick_operator(c, [*ops, OperatorSnapshot(id=5, load=2)], {}, NOW).id == 5


def test_least_loaded_first_then_round_robin() -> None:
    ops = [OperatorSnapshot(id=1, load=1), OperatorSnapshot(id=2, load=0, last_assigned_at=ago(10)),
           OperatorSnapshot(id=3, load=0, last_assigned_at=ago(100))]
    # least loaded: 2 and 3 tie on load; 3 has waited longest since an assignment
    assert pick_operator(conv(1), ops, {}, NOW).id == 3
    # a pass over four conversations spreads them: 3, 2, then all at load 1 -> longest idle is 1
    assignments = plan([conv(i, waited=100 - i) for i in range(1, 5)], ops, {}, NOW)
    assert [a.operator_id for a in assignments] == [3, 2, 1, 3]


def test_load_is_relative_to_capacity() -> None:
    big = OperatorSnapshot(id=1, capacity=6, load=2)
    small = OperatorSnapshot(id=2, capacity=2, load=1)
    assert pick_operator(conv(1), [small, big], {}, NOW).id == 1


def test_capacity_limits_a_whole_pass() -> None:
    ops = [OperatorSnapshot(id=1, capacity=3, load=1), OperatorSnapshot(id=2, capacity=1)]
    assignments = plan([conv(i, waited=i) for i in range(1, 6)], ops, {}, NOW)
    assert len(assignments) == 3
    per_op = {op: sum(a.operator_id == op for a in assignments) for op in (1, 2)}
    assert per_op == {1: 2, 2: 1}


def test_vip_and_priority_go_first_but_waiting_ages_everyone() -> None:
    normal_long = conv(1, waited=400)
    normal_short = conv(2, waited=100)
    vip_fresh = conv(3, waited=0, vip=True)
    urgent = conv(4, waited=10, priority=2)
    order = [c.id for c in queue_order([normal_long, normal_short, vip_fresh, urgent], NOW)]
    # urgent: 2*300+10=610, normal_long: 400, vip: 300, normal_short: 100
    assert order == [4, 1, 3, 2]
    # with one free slot, the most urgent is served
    assert [a.conversation_id for a in plan([normal_long, vip_fresh], [OperatorSnapshot(id=1, capacity=1)],
                                            {}, NOW)] == [1]


def test_overflow_opens_the_backup_team_after_the_wait() -> None:
    teams = {1: TeamSnapshot(id=1, backup_team_id=2, overflow_after_seconds=120),
             2: TeamSnapshot(id=2, backup_team_id=3, overflow_after_seconds=60),
             3: TeamSnapshot(id=3, backup_team_id=1, overflow_after_seconds=60)}
    assert allowed_teams(conv(1, waited=119, team_id=1), teams, NOW) == {1}
    assert allowed_teams(conv(1, waited=121, team_id=1), teams, NOW) == {1, 2}
    assert allowed_teams(conv(1, waited=181, team_id=1), teams, NOW) == {1, 2, 3}
    assert allowed_teams(conv(1, waited=10_000, team_id=1), teams, NOW) == {1, 2, 3}  # a cycle ends
    assert allowed_teams(conv(1, waited=10_000), teams, NOW) is None
    backup_member = OperatorSnapshot(id=9, team_id=2)
    assert plan([conv(1, waited=60, team_id=1)], [backup_member], teams, NOW) == []
    [assignment] = plan([conv(1, waited=130, team_id=1)], [backup_member], teams, NOW)
    assert (assignment.operator_id, assignment.reason) == (9, "overflow")


def test_own_team_is_preferred_once_overflowed_only_by_usual_ranking() -> None:
    teams = {1: TeamSnapshot(id=1, backup_team_id=2, overflow_after_seconds=60), 2: TeamSnapshot(id=2)}
    own = OperatorSnapshot(id=1, team_id=1, load=0)
    other = OperatorSnapshot(id=2, team_id=2)
    [assignment] = plan([conv(1, waited=500, team_id=1)], [own, other], teams, NOW)
    assert (assignment.operator_id, assignment.reason) == (1, "routed")


def test_only_someone_online_and_seen_is_available_for_a_transfer_or_a_reopen() -> None:
    assert available("online", ago(10), NOW, grace_seconds=60)
    assert not available("online", ago(61), NOW, grace_seconds=60)  # their connection is gone
    assert not available("away", ago(1), NOW) and not available("offline", None, NOW)


def test_a_message_soon_after_resolution_goes_back_to_a_person() -> None:
    assert reopen_to(ago(600), True, NOW, window_seconds=1800) == "operator"
    assert reopen_to(ago(600), False, NOW, window_seconds=1800) == "queue"
    assert reopen_to(ago(1801), True, NOW, window_seconds=1800) == "bot"
    assert reopen_to(ago(1), True, NOW, window_seconds=0) == "bot"  # turned off
    assert reopen_to(ago(1), None, NOW, window_seconds=1800) == "bot"  # nobody owned it
