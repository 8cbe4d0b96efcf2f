"""`baton eval cross`: the baseline's and the table's arithmetic on hand-computed cases, then the
command end to end on two tiny bots, as a support lead runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from eval.conversations import Conversation
from eval.cross import aggregate, baseline_outcomes, discover, hindsight, markdown, row, typed_similarity
from eval.metrics import summary
from eval.replay import Replay
from handoff import Detector, HandoffConfig, Turn
from knowledge import InputError

# Closest-vector similarity the answerer reports for each question (the baseline reads only that).
SIMILARITY = {
    "how do I get a refund": 0.91,  # answerable, similar: baseline continues (true negative)
    "what's the tallest mountain in peru": 0.31,  # unanswerable, far: escalates (true positive)
    "agent please": 0.80,  # a person asked for: the keyword escalates (true positive)
    "can I pay with a voucher": 0.50,  # answerable but below 0.54: a false escalation
    "do you sell gift wrap": 0.70,  # unanswerable yet similar: missed (false negative)
    "where is my parcel": 0.88,
}


def answerer(questions: list[str]) -> list[Turn]:
    return [Turn("bot", "answer", 0.9, {"similarity": SIMILARITY[q]}) for q in questions]


def conversation(id_, texts, escalate=False, reason="none", turn=None) -> Conversation:
    return Conversation(id_, [Turn(role, text) for role, text in texts], escalate, reason, turn, "gold", "t")


@pytest.fixture(scope="module")
def replay(embedder) -> Replay:
    conversations = [
        conversation("tn", [("user", "how do I get a refund")]),
        conversation("tp-far", [("user", "what's the tallest mountain in peru")], True, "low_confidence", 0),
        conversation(
            "tp-word",
            [("user", "where is my parcel"), ("bot", "In transit."), ("user", "agent please")],
            True,
            "explicit_request",
            1,
        ),
        conversation("fp", [("user", "can I pay with a voucher")]),
        conversation("fn", [("user", "do you sell gift wrap")], True, "low_confidence", 0),
    ]
    return Replay(conversations, Detector(HandoffConfig.load(), embedder), answerer, progress=False)


def test_baseline_decisions_and_figures_by_hand(replay):
    found = baseline_outcomes(replay)
    assert [o.predicted for o in found] == [False, True, True, True, False]
    assert [o.predicted_reason for o in found] == [
        None,
        "low_confidence",
        "explicit_request",
        "low_confidence",
        None,
    ]
    assert found[2].predicted_turn == 1  # the keyword fires at the second user turn, not the first
    figures = summary(found)
    # tp 2, fp 1, tn 1, fn 1: precision 2/3, recall 2/3, F1 2/3, false escalations 1/2
    assert figures["confusion"] == {"tp": 2, "fp": 1, "tn": 1, "fn": 1}
    assert figures["precision"] == pytest.approx(2 / 3)
    assert figures["recall"] == pytest.approx(2 / 3)
    assert figures["f1"] == pytest.approx(2 / 3)
    assert figures["false_escalation_rate"] == pytest.approx(0.5)
    assert figures["per_reason"]["low_confidence"]["recall"] == pytest.approx(0.5)
    assert figures["per_reason"]["explicit_request"]["recall"] == 1.0


# Answer confidence per question for the hindsight test: low-confidence scores 0.1, 0.65, 0.75, 0.9.
CONFIDENCE = {
    "how do I get a refund": 0.9,  # answerable
    "can I pay with a voucher": 0.35,  # answerable, weakly answered
    "do you sell gift wrap": 0.25,  # unanswerable
    "what's the tallest mountain in peru": 0.1,  # unanswerable
}


def test_hindsight_threshold_by_hand(embedder):
    def answer(questions: list[str]) -> list[Turn]:
        return [Turn("bot", "answer", CONFIDENCE[q], {"similarity": 0.9}) for q in questions]

    conversations = [
        conversation("tn", [("user", "how do I get a refund")]),
        conversation("weak", [("user", "can I pay with a voucher")]),
        conversation("gift", [("user", "do you sell gift wrap")], True, "low_confidence", 0),
        conversation("peru", [("user", "what's the tallest mountain in peru")], True, "low_confidence", 0),
    ]
    replay = Replay(conversations, Detector(HandoffConfig.load(), embedder), answer, progress=False)
    # escalate_at 0.50-0.64: voucher, gift, peru escalate (F1 0.8, FER 1/2); 0.66-0.74: gift and peru
    # (F1 1, FER 0); 0.76-0.90: peru only (F1 2/3); 0.92 on: nothing (F1 0).
    best = hindsight(replay, max_fer=0.06)
    assert best["escalate_at"] == 0.66 and best["f1"] == 1.0 and best["false_escalation_rate"] == 0.0
    assert best["max_fer"] == 0.06 and best["shipped_escalate_at"] == 0.82
    # A tie keeps the lowest value; the cap excludes what escalates the answerable question.
    assert hindsight(replay, max_fer=0.5, grid=(0.5, 0.6, 0.8))["escalate_at"] == 0.5
    assert hindsight(replay, max_fer=0.5, grid=(0.5, 0.6, 0.8))["f1"] == pytest.approx(0.8)
    only_peru = hindsight(replay, max_fer=0.0, grid=(0.5, 0.6, 0.8))
    assert only_peru["escalate_at"] == 0.8 and only_peru["f1"] == pytest.approx(2 / 3)
    assert hindsight(replay, max_fer=0.0, grid=(0.5, 0.6)) is None
    # The replay's own configuration is left as it was.
    assert replay.detector.config.low_confidence.escalate_at == 0.82


def figures(f1: float, fer: float, low: float, n_low: int = 10) -> dict:
    reasons = {name: {"n": 0, "recall": 0.0} for name in ("explicit_request", "frustration")}
    reasons["low_confidence"] = {"n": n_low, "recall": low}
    return {
        "n": 100,
        "precision": f1,
        "recall": f1,
        "f1": f1,
        "false_escalation_rate": fer,
        "per_reason": reasons,
    }


def test_mean_worst_and_ahead_by_hand():
    bots = [
        {"bot": "a", "baton": row(figures(0.9, 0.02, 0.8)), "baseline": row(figures(0.8, 0.10, 0.9))},
        {"bot": "b", "baton": row(figures(0.6, 0.06, 0.4)), "baseline": row(figures(0.7, 0.04, 0.5))},
        {
            "bot": "c",
            "baton": row(figures(0.75, 0.04, 0.6, n_low=0)),
            "baseline": row(figures(0.5, 0.2, 0.0, 0)),
        },
    ]
    result = aggregate(bots)
    assert result["mean"]["baton"]["f1"] == pytest.approx((0.9 + 0.6 + 0.75) / 3)
    assert result["mean"]["baseline"]["false_escalation_rate"] == pytest.approx((0.10 + 0.04 + 0.2) / 3)
    # recall per reason is averaged over the bots that have that reason (c has none)
    assert result["mean"]["baton"]["per_reason"]["low_confidence"] == {
        "bots": 2,
        "recall": pytest.approx(0.6),
    }
    assert "frustration" not in result["mean"]["baton"]["per_reason"]
    assert result["worst"]["baton"]["bot"] == "b" and result["worst"]["baseline"]["bot"] == "c"
    assert result["ahead"] == 2  # a and c
    table = markdown({"data": "d", "bots": bots, **result, "baseline": {"similarity_below": 0.54}})
    assert "| b | 100 | 0.600 | 0.600 | 0.600 | 0.060 | 0.700 | 0.700 | 0.700 | 0.040 | -0.100 |" in table
    assert "ahead of the baseline on 2 of 3 bots" in table


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def bot(
    folder: Path, name: str, entries: list[tuple[str, list[str]]], questions: list[tuple[str, bool]]
) -> None:
    write_jsonl(
        folder / f"{name}_kb.jsonl",
        [
            {"id": f"{name}:{i}", "title": title, "examples": examples, "answer": f"[{title}]"}
            for i, (title, examples) in enumerate(entries)
        ],
    )
    write_jsonl(
        folder / f"{name}_handoff.jsonl",
        [
            {
                "id": f"{name}-{i}",
                "turns": [{"role": "user", "text": text}],
                "escalate": out,
                "reason": "low_confidence" if out else "none",
                "escalate_turn": 0 if out else None,
            }
            for i, (text, out) in enumerate(questions)
        ],
    )


@pytest.fixture(scope="module")
def bots(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("bots")
    bot(
        folder,
        "shop",
        [
            ("refund", ["can I get my money back", "refund please", "how do refunds work"]),
            ("tracking", ["where is my parcel", "track my order", "when will my package arrive"]),
            ("password", ["reset my password", "I forgot my password", "can't log in"]),
        ],
        [
            ("I want my money back", False),
            ("where's my package", False),
            ("forgot my password again", False),
            ("what's the capital of peru", True),
            ("play some jazz music", True),
        ],
    )
    bot(
        folder,
        "bank",
        [
            ("freeze card", ["block my card", "freeze my card now", "my card was stolen"]),
            ("balance", ["what is my balance", "how much money do I have", "show my account balance"]),
            ("pin", ["change my pin", "reset the card pin", "I forgot my pin"]),
        ],
        [
            ("please block my card", False),
            ("how much is in my account", False),
            ("book a flight to rome", True),
        ],
    )
    (folder / "notes.txt").write_text("not a bot")
    return folder


def test_the_baseline_reads_the_message_as_typed(embedder, tmp_path):
    """Baton searches "activatd my crad" as "activate my card"; the baseline keeps what was typed."""
    from eval.replay import knowledge_answerer
    from knowledge import KnowledgeBase, KnowledgeIndex, load_path

    bot(tmp_path, "cards", [("activate card", ["how do I activate my card", "activate my new card"]),
                            ("refund", ["where is my refund", "I want my money back"])], [])
    index_dir = tmp_path / "index"
    documents = load_path(tmp_path / "cards_kb.jsonl")
    KnowledgeIndex.open(index_dir).ingest(documents, embedder, progress=False)
    typed = "activatd my crad"
    conversations = [conversation("typo", [("user", typed)]),
                     conversation("ok", [("user", "where is my refund")])]
    replay = Replay(conversations, Detector(HandoffConfig.load(), embedder),
                    knowledge_answerer(KnowledgeBase(index_dir, embedder)), progress=False)
    similarities = typed_similarity(replay, index_dir, embedder)
    vectors = KnowledgeIndex.open(index_dir).vectors
    direct = float((vectors @ embedder.encode([typed])[0]).max())
    assert similarities[typed] == pytest.approx(direct, abs=0.02)  # int8: batch padding moves it
    assert similarities["where is my refund"] > 0.98  # an example, word for word
    assert replay.answer(typed).meta["similarity"] > similarities[typed] + 0.1  # Baton's own reading
    decided = baseline_outcomes(replay, similarities)
    assert [o.predicted for o in decided] == [similarities[typed] < 0.54, False]


def test_discover_pairs_files_and_names_what_is_missing(bots, tmp_path):
    assert [b.name for b in discover(bots)] == ["bank", "shop"]
    (tmp_path / "lonely_kb.jsonl").write_text("{}\n")
    with pytest.raises(InputError, match="lonely_handoff.jsonl"):
        discover(tmp_path)


def test_cross_command_writes_table_and_per_bot_outputs(bots, tmp_path):
    out = tmp_path / "out"
    command = [str(Path(sys.executable).with_name("baton")), "eval", "cross", str(bots), "--out", str(out)]
    run = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    result = json.loads((out / "cross.json").read_text())
    assert [b["bot"] for b in result["bots"]] == ["bank", "shop"]
    for entry in result["bots"]:
        for system in ("baton", "baseline"):
            assert {"n", "precision", "recall", "f1", "false_escalation_rate", "per_reason"} <= set(
                entry[system]
            )
        assert entry["baton"]["n"] == {"bank": 3, "shop": 5}[entry["bot"]]
        metrics = json.loads((out / entry["bot"] / "metrics.json").read_text())
        assert metrics["f1"] == entry["baton"]["f1"]  # the table is the per-bot output, not a re-run
        baseline = json.loads((out / entry["bot"] / "baseline.json").read_text())
        assert baseline["f1"] == entry["baseline"]["f1"]
        assert (out / entry["bot"] / "predictions.jsonl").exists() and (
            out / entry["bot"] / "report.html"
        ).exists()
    f1s = [b["baton"]["f1"] for b in result["bots"]]
    assert result["mean"]["baton"]["f1"] == pytest.approx(sum(f1s) / 2)
    assert result["worst"]["baton"]["f1"] == min(f1s)
    table = (out / "cross.md").read_text()
    assert "| bank | 3 |" in table
    # The hindsight diagnostic is there, and says it is fitted on the bot itself.
    assert "## In hindsight (fitted on each bot's own labels: a diagnostic, not a figure)" in table
    for entry in result["bots"]:
        best = entry["hindsight"]
        assert best is None or (0.5 <= best["escalate_at"] <= 0.96 and best["false_escalation_rate"] <= 0.06)
    page = (out / "report.html").read_text()
    assert "Cross-domain evaluation" in page and "<svg" in page and "shop/report.html" in page
    assert "In hindsight (fitted on each bot's own labels" in page


def test_cross_command_exits_2_naming_the_unpaired_file(tmp_path):
    (tmp_path / "x_handoff.jsonl").write_text("{}\n")
    command = [
        str(Path(sys.executable).with_name("baton")),
        "eval",
        "cross",
        str(tmp_path),
        "--out",
        str(tmp_path / "out"),
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert "x_handoff.jsonl" in run.stderr and "x_kb.jsonl" in run.stderr


def test_cross_command_refuses_a_cap_that_is_not_a_rate(bots, tmp_path):
    command = [str(Path(sys.executable).with_name("baton")), "eval", "cross", str(bots), "--out",
               str(tmp_path / "out"), "--hindsight-fer", "6"]
    run = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert "--hindsight-fer" in run.stderr and not (tmp_path / "out").exists()
