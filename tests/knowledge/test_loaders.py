"""Loaders: FAQ JSONL and CSV, Markdown, HTML and text articles, and what bad input says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge import InputError, load_path

ROOT = Path(__file__).resolve().parents[2]


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def jsonl(*rows: object) -> str:
    return "\n".join(row if isinstance(row, str) else json.dumps(row) for row in rows) + "\n"


def test_jsonl_entries_keep_every_field(tmp_path: Path) -> None:
    file = write(tmp_path / "faq.jsonl", jsonl(
        {"id": "billing:refund", "title": "how do I get a refund", "examples": ["money back?", " "],
         "answer": "Refunds take 5 days.", "tags": ["billing"], "url": "https://x.example/r"},
        "",
        {"id": 7, "answer": "[EMI]"}))
    first, second = load_path(file)
    assert (first.id, first.title, first.text, first.examples, first.tags, first.url) == (
        "billing:refund", "how do I get a refund", "Refunds take 5 days.", ["money back?"], ["billing"],
        "https://x.example/r")
    assert first.is_faq and first.source == str(file)
    assert (second.id, second.title, second.examples, second.url) == ("7", "", [], None)


@pytest.mark.parametrize(("line", "field", "message"), [
    ('{"id": "a", "answer": "x"', None, "not valid JSON"),
    ('["a", "b"]', None, "expected a JSON object"),
    ('{"answer": "x"}', "id", "required"),
    ('{"id": "a"}', "answer", "required"),
    ('{"id": "a", "answer": "   "}', "answer", "required"),
    ('{"id": "a", "answer": "x", "examples": "one"}', "examples", "list of strings"),
    ('{"id": "a", "answer": "x", "tags": [1]}', "tags", "list of strings"),
    ('{"id": "a", "answer": "x", "title": 3}', "title", "expected a string"),
    ('{"id": "good", "answer": "x"}', "id", "duplicate id"),
])
def test_jsonl_bad_line_names_file_line_and_field(tmp_path: Path, line: str, field: str | None,
                                                   message: str) -> None:
    file = write(tmp_path / "kb.jsonl", jsonl({"id": "good", "answer": "fine"}, line))
    with pytest.raises(InputError) as caught:
        load_path(file)
    assert (caught.value.path, caught.value.line, caught.value.field) == (str(file), 2, field)
    assert message in str(caught.value) and f"{file}:2" in str(caught.value)


def test_csv_with_list_columns(tmp_path: Path) -> None:
    file = write(tmp_path / "faq.csv", 'id,title,answer,examples,tags\n'
                 'a,Refunds,"Refunds take\nfive days.",money back|refund please,billing\n'
                 'b,Shipping,We ship daily.,"[""where is it"", ""tracking""]",\n'
                 ',,,,\n')
    first, second = load_path(file)
    assert first.text == "Refunds take\nfive days." and first.examples == ["money back", "refund please"]
    assert first.tags == ["billing"]
    assert second.examples == ["where is it", "tracking"] and second.tags == []


def test_csv_errors_name_the_line(tmp_path: Path) -> None:
    missing = write(tmp_path / "a.csv", "id,title\nx,y\n")
    with pytest.raises(InputError, match="missing column") as caught:
        load_path(missing)
    assert caught.value.field == "answer"
    bad = write(tmp_path / "b.csv", 'id,answer\nx,fine\n"multi\nline",\n')
    with pytest.raises(InputError) as caught:
        load_path(bad)
    assert (caught.value.line, caught.value.field) == (3, "answer")
    extra = write(tmp_path / "c.csv", "id,answer\nx,fine,surplus\n")
    with pytest.raises(InputError, match="more values than columns") as caught:
        load_path(extra)
    assert caught.value.line == 2


def test_markdown_front_matter_and_headings(tmp_path: Path) -> None:
    write(tmp_path / "kb" / "billing" / "refunds.md",
                 "---\ntitle: Refunds\nurl: https://x.example/refunds\ntags: [billing, money]\n---\n"
                 "# Getting a refund\n\nRefunds take five days.\n")
    (doc,) = load_path(tmp_path / "kb")
    assert (doc.id, doc.title, doc.url, doc.tags) == ("billing/refunds", "Refunds", "https://x.example/refunds",
                                                      ["billing", "money"])
    assert doc.text.startswith("# Getting a refund") and not doc.is_faq


def test_markdown_without_front_matter_uses_first_heading_and_url_line(tmp_path: Path) -> None:
    file = write(tmp_path / "returns_policy.md",
                 "URL: https://x.example/returns\n\n# Returns\n\nThirty days.\n")
    (doc,) = load_path(file)
    assert (doc.id, doc.title, doc.url) == ("returns_policy", "Returns", "https://x.example/returns")
    plain = write(tmp_path / "no_heading.md", "Just text.\n")
    assert load_path(plain)[0].title == "No heading"


def test_html_title_canonical_and_readable_text(tmp_path: Path) -> None:
    file = write(tmp_path / "ship.html", (
        '<html><head><title>Shipping times</title><link rel="canonical" href="https://x.example/ship">'
        "<style>p{color:red}</style></head><body><nav>Home | Help</nav><h1>Shipping</h1>"
        "<p>We ship in <b>2&nbsp;days</b>.</p><h2>Abroad</h2><ul><li>EU: 4 days</li><li>US: 7 days</li></ul>"
        "<script>track()</script></body></html>"))
    (doc,) = load_path(file)
    assert (doc.title, doc.url) == ("Shipping times", "https://x.example/ship")
    assert "# Shipping" in doc.text and "## Abroad" in doc.text and "EU: 4 days" in doc.text
    assert "track()" not in doc.text and "color" not in doc.text and "Home | Help" not in doc.text


def test_text_file_with_url_on_first_line(tmp_path: Path) -> None:
    file = write(tmp_path / "hours.txt", "https://x.example/hours\nWe are open 9 to 5.\n\nClosed Sundays.\n")
    (doc,) = load_path(file)
    assert (doc.url, doc.title, doc.text) == ("https://x.example/hours", "Hours",
                                              "We are open 9 to 5.\n\nClosed Sundays.")


def test_folder_mixes_formats_and_skips_readme_and_hidden(tmp_path: Path) -> None:
    write(tmp_path / "kb" / "faq.jsonl", jsonl({"id": "a", "answer": "x"}))
    write(tmp_path / "kb" / "guide.md", "# Guide\n\nText.\n")
    write(tmp_path / "kb" / "README.md", "# About this folder\n")
    write(tmp_path / "kb" / ".draft" / "secret.md", "# Draft\n")
    write(tmp_path / "kb" / "notes.pdf", "binary")
    assert sorted(doc.id for doc in load_path(tmp_path / "kb")) == ["a", "guide"]


@pytest.mark.parametrize(("name", "content", "message"), [
    ("empty.md", "---\ntitle: x\n---\n\n", "empty article"),
    ("open.md", "---\ntitle: x\n# body\n", "not closed"),
    ("latin.txt", "caf\xe9".encode("latin-1"), "not UTF-8"),
])
def test_bad_article_names_the_file(tmp_path: Path, name: str, content: str | bytes, message: str) -> None:
    file = write(tmp_path / name, content)
    with pytest.raises(InputError, match=message) as caught:
        load_path(tmp_path)
    assert caught.value.path == str(file)


def test_missing_path_and_duplicate_ids_across_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        load_path(tmp_path / "nope")
    write(tmp_path / "kb" / "a.jsonl", jsonl({"id": "same", "answer": "x"}))
    write(tmp_path / "kb" / "b.jsonl", jsonl({"id": "same", "answer": "y"}))
    with pytest.raises(InputError, match="duplicate id 'same'"):
        load_path(tmp_path / "kb")


def test_sample_knowledge_base_loads() -> None:
    documents = load_path(ROOT / "samples" / "kb")
    assert len({doc.id for doc in documents}) == len(documents) > 20
    assert any(doc.is_faq for doc in documents) and any(not doc.is_faq for doc in documents)
    assert all(doc.text.strip() for doc in documents)
