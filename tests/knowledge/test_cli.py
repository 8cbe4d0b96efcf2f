"""`baton ingest` and `baton ask`, in-process through engine.cli.main and once as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "faq.jsonl").write_text("".join(json.dumps(row) + "\n" for row in [
        {"id": "shipping:cost", "title": "How much is delivery?",
         "examples": ["delivery price", "shipping fee"],
         "answer": "UK delivery costs £3.95 and is free from £40.", "url": "https://x.example/delivery"},
        {"id": "returns:window", "title": "How long do I have to return something?",
         "examples": ["can I still send it back"], "answer": "You can return items within 30 days."},
        {"id": "damaged", "title": "My item arrived broken", "examples": ["it came smashed"],
         "answer": "Sorry! Send photos within 14 days; a member of our team will review it, so we will "
                   "pass you to a person."},
    ]))
    (folder / "hours.md").write_text("# Opening hours\n\nChat is open Monday to Friday, 8am to 8pm.\n")
    return folder


def test_ingest_then_ask(kb: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    index = tmp_path / "index"
    assert main(["ingest", str(kb), "--index", str(index), "--quiet"]) == 0
    assert "added 4, updated 0, unchanged 0, removed 0 documents" in capsys.readouterr().out
    assert main(["ingest", str(kb), "--index", str(index), "--quiet"]) == 0
    assert "added 0, updated 0, unchanged 4, removed 0 documents" in capsys.readouterr().out
    assert main(["ask", "what does shipping cost?", "--index", str(index), "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert "£3.95" in answer["text"] and answer["citations"][0]["doc_id"] == "shipping:cost"
    assert 0.5 < answer["confidence"] <= 1 and answer["hits"][0]["lexical"] > 0
    assert main(["ask", "when can I chat with you", "--index", str(index)]) == 0
    out = capsys.readouterr().out
    assert "Monday to Friday" in out and "confidence:" in out and "[1] Opening hours (hours)" in out
    assert "hands over to a person" not in out
    assert main(["ask", "my vase arrived broken", "--index", str(index)]) == 0
    out = capsys.readouterr().out
    assert 'hands over to a person: the article "My item arrived broken" says a person takes this over' in out


def test_bad_input_exits_2_naming_file_line_and_field(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "answer": "fine"}\n{"id": "b"}\n')
    assert main(["ingest", str(bad), "--index", str(tmp_path / "index"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:2" in err and "(field 'answer')" in err
    assert main(["ask", "anything", "--index", str(tmp_path / "missing")]) == 2
    assert "baton ingest" in capsys.readouterr().err


def test_baton_executable_ingests_into_the_env_index(kb: Path, tmp_path: Path) -> None:
    env = {**os.environ, "BATON_INDEX_DIR": str(tmp_path / "env-index")}
    baton = Path(sys.executable).with_name("baton")
    result = subprocess.run([str(baton), "ingest", str(kb / "faq.jsonl")], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "added 3" in result.stdout and (tmp_path / "env-index" / "manifest.json").exists()
