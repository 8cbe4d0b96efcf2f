"""Load a knowledge base from disk: FAQ files (JSONL, CSV) and folders of articles.

The FAQ format is the public one of EVAL_FORMAT.md. Bad input stops the load with an
``InputError`` naming the file, the line and the field: a malformed line is never skipped.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from knowledge.articles import ARTICLE_SUFFIXES, load_article, read_text
from knowledge.documents import Document
from knowledge.errors import InputError

FAQ_SUFFIXES = (".jsonl", ".csv")
LIST_SEPARATORS = ("\n", "|")


def load_path(path: str | Path) -> list[Document]:
    """Every document under ``path``: one FAQ file, one article, or a folder of both (recursive).

    Article ids are their path relative to the folder given, without the suffix, so they stay
    stable wherever the folder lives. In a folder, hidden files and ``README`` files (which
    describe the folder rather than answer customers) are left out.
    """
    root = Path(path)
    if not root.exists():
        raise InputError("no such file or folder", path=str(root))
    if root.is_file():
        return _load_file(root, root.parent)
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in (*FAQ_SUFFIXES,
                                                                                     *ARTICLE_SUFFIXES)
                   and not any(part.startswith(".") for part in p.relative_to(root).parts)
                   and p.stem.lower() != "readme")
    documents: list[Document] = []
    seen: dict[str, str] = {}
    for file in files:
        for document in _load_file(file, root):
            if document.id in seen:
                raise InputError(f"duplicate id {document.id!r} (also in {seen[document.id]})",
                                 path=str(file), field="id")
            seen[document.id] = str(file)
            documents.append(document)
    return documents


def _load_file(file: Path, root: Path) -> list[Document]:
    suffix = file.suffix.lower()
    if suffix == ".jsonl":
        return load_faq_jsonl(file)
    if suffix == ".csv":
        return load_faq_csv(file)
    if suffix in ARTICLE_SUFFIXES:
        return [load_article(file, root)]
    raise InputError(f"unsupported file type {suffix or '(none)'!r}; expected .jsonl, .csv, "
                     ".md, .html, .txt", path=str(file))


def load_faq_jsonl(file: Path) -> list[Document]:
    """One FAQ entry per line; blank lines are allowed, anything else must be a valid entry."""
    entries: list[Document] = []
    seen: set[str] = set()
    for number, line in enumerate(read_text(file).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"not valid JSON ({exc.msg} at column {exc.colno})", path=str(file),
                             line=number) from exc
        if not isinstance(record, dict):
            raise InputError("expected a JSON object", path=str(file), line=number)
        entries.append(_faq_entry(record, file, number, seen, parse_lists=False))
    return entries


def load_faq_csv(file: Path) -> list[Document]:
    """CSV with the JSONL field names as columns; ``examples``/``tags`` hold a JSON list or
    values separated by newlines or ``|``."""
    entries: list[Document] = []
    seen: set[str] = set()
    reader = csv.DictReader(read_text(file).splitlines(keepends=True))
    missing = {"id", "answer"} - set(reader.fieldnames or ())
    if missing:
        raise InputError("missing column", path=str(file), line=1, field=sorted(missing)[0])
    start = reader.line_num + 1
    for record in reader:
        if None in record:
            raise InputError("more values than columns", path=str(file), line=start)
        if any(value is None for value in record.values()):
            raise InputError("fewer values than columns", path=str(file), line=start)
        if any(value.strip() for value in record.values()):
            entries.append(_faq_entry(record, file, start, seen, parse_lists=True))
        start = reader.line_num + 1
    return entries


def _faq_entry(record: dict, file: Path, line: int, seen: set[str], *, parse_lists: bool) -> Document:
    def fail(message: str, field: str) -> InputError:
        return InputError(message, path=str(file), line=line, field=field)

    raw_id = record.get("id")
    if isinstance(raw_id, bool) or not isinstance(raw_id, str | int) or not str(raw_id).strip():
        raise fail("required: a non-empty string", "id")
    entry_id = str(raw_id).strip()
    if entry_id in seen:
        raise fail(f"duplicate id {entry_id!r}", "id")
    seen.add(entry_id)
    answer = record.get("answer")
    if not isinstance(answer, str) or not answer.strip():
        raise fail("required: a non-empty string", "answer")
    fields: dict[str, object] = {}
    for name in ("title", "url"):
        value = record.get(name)
        if value is not None and not isinstance(value, str):
            raise fail("expected a string", name)
        fields[name] = (value or "").strip()
    lists: dict[str, list[str]] = {}
    for name in ("examples", "tags"):
        value = record.get(name)
        if parse_lists:
            value = _split_list(value or "", fail, name)
        if value is None:
            value = []
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise fail("expected a list of strings", name)
        lists[name] = [item.strip() for item in value if item.strip()]
    return Document(id=entry_id, title=str(fields["title"]), text=answer.strip(), examples=lists["examples"],
                    tags=lists["tags"], url=str(fields["url"]) or None, source=str(file))


def _split_list(value: str, fail, name: str) -> list[str]:
    value = value.strip()
    if value.startswith("["):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise fail(f"not a valid JSON list ({exc.msg})", name) from exc
    for separator in LIST_SEPARATORS:
        if separator in value:
            return value.split(separator)
    return [value] if value else []

