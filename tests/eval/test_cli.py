"""`baton eval handoff` and `baton eval sweep` end to end, as a support lead runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROWS = [
    {
        "id": "a",
        "turns": [{"role": "user", "text": "how do I get my money back"}],
        "escalate": False,
        "reason": "none",
        "escalate_turn": None,
        "label_strength": "gold",
        "source": "s1",
    },
    {
        "id": "b",
        "turns": [{"role": "user", "text": "agent pls"}],
        "escalate": True,
        "reason": "explicit_request",
        "escalate_turn": 0,
        "label_strength": "gold",
        "source": "s1",
    },
    {
        "id": "c",
        "turns": [{"role": "user", "text": "what's the tallest mountain in peru"}],
        "escalate": True,
        "reason": "low_confidence",
        "escalate_turn": 0,
        "label_strength": "gold",
        "source": "s2",
    },
    {
        "id": "d",
        "turns": [
            {"role": "user", "text": "where is my parcel"},
            {"role": "bot", "text": "In transit."},
            {"role": "user", "text": "that didn't help, this is ridiculous!!"},
        ],
        "escalate": True,
        "reason": "frustration",
        "escalate_turn": 1,
        "label_strength": "soft",
        "source": "s2",
    },
]
KB = [
    {
        "id": "refund",
        "title": "how do I get a refund",
        "examples": ["can I get my money back", "refund please"],
        "answer": "Refunds go back to the original payment method within 5 business days.",
    },
    {
        "id": "track",
        "title": "where is my parcel",
        "examples": ["track my order", "where is my package"],
        "answer": "Track your parcel under My orders.",
    },
]


def baton(*args: str) -> subprocess.CompletedProcess:
    command = [str(Path(sys.executable).with_name("baton")), "eval", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cli")
    return {
        "data": write_jsonl(root / "data.jsonl", ROWS),
        "kb": write_jsonl(root / "kb.jsonl", KB),
        "root": root,
    }


def test_handoff_writes_the_contract_files(files):
    out = files["root"] / "out"
    run = baton("handoff", str(files["data"]), "--kb", str(files["kb"]), "--out", str(out))
    assert run.returncode == 0, run.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    for key in (
        "n",
        "precision",
        "recall",
        "f1",
        "accuracy",
        "false_escalation_rate",
        "confusion",
        "per_reason",
        "reason_accuracy",
        "timing",
    ):
        assert key in metrics
    assert metrics["n"] == 4 and metrics["confusion"]["tp"] + metrics["confusion"]["fn"] == 3
    assert set(metrics["by_label_strength"]) == {"gold", "soft"}
    lines = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert [line["id"] for line in lines] == ["a", "b", "c", "d"]
    assert lines[1]["escalate"] and lines[1]["reasons"][0] == "explicit_request" and lines[1]["turn"] == 0
    assert {"id", "escalate", "reasons", "turn", "scores"} <= set(lines[0])
    page = (out / "report.html").read_text()
    assert page.count("<svg") >= 5 and "Confusion matrix" in page and "Worst misses" in page


def test_malformed_line_exits_2_naming_file_line_and_field(files):
    bad = files["root"] / "bad.jsonl"
    bad.write_text(json.dumps(ROWS[0]) + "\n" + json.dumps({**ROWS[1], "escalate_turn": 5}) + "\n")
    run = baton("handoff", str(bad), "--out", str(files["root"] / "bad-out"))
    assert run.returncode == 2
    assert f"{bad}:2:" in run.stderr and "escalate_turn" in run.stderr


def test_sweep_writes_a_loadable_configuration(files):
    target = files["root"] / "tuned.toml"
    run = baton(
        "sweep",
        str(files["data"]),
        "--kb",
        str(files["kb"]),
        "--cost-missed",
        "5",
        "--cost-false",
        "1",
        "--write",
        str(target),
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["cost_after"] <= report["cost_before"]
    from handoff import HandoffConfig

    HandoffConfig.load(target)
