"""Articles (Markdown, HTML, plain text) turned into documents whose text keeps the headings.

Every format ends up as light Markdown (``#`` heading lines and blank-line paragraphs) so the
chunker has one grammar to follow. Metadata comes from where each format keeps it: Markdown
front matter, an HTML ``<title>`` and ``<link rel="canonical">``, or a URL on the first line.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from knowledge.documents import Document
from knowledge.errors import InputError

MARKDOWN_SUFFIXES = (".md", ".markdown")
HTML_SUFFIXES = (".html", ".htm")
TEXT_SUFFIXES = (".txt",)
ARTICLE_SUFFIXES = (*MARKDOWN_SUFFIXES, *HTML_SUFFIXES, *TEXT_SUFFIXES)

URL_LINE = re.compile(r"^\s*(?:(?:url|source|link)\s*:\s*)?<?(https?://\S+?)>?\s*$", re.IGNORECASE)
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
FRONT_MATTER_FIELDS = ("id", "title", "url", "tags")


def read_text(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})", path=str(file)) from exc


def load_article(file: Path, root: Path) -> Document:
    """One article; its id is the path relative to ``root`` without the suffix."""
    raw = read_text(file)
    suffix = file.suffix.lower()
    meta: dict[str, str] = {}
    if suffix in HTML_SUFFIXES:
        text, meta = html_to_markdown(raw)
    else:
        text = raw
        if suffix in MARKDOWN_SUFFIXES:
            meta, text = _front_matter(text, file)
        if "url" not in meta:
            text, url = _first_line_url(text)
            if url:
                meta["url"] = url
    text = text.strip()
    if not text:
        raise InputError("empty article: no text to answer with", path=str(file))
    title = meta.get("title") or _first_heading(text) or _title_from_name(file)
    doc_id = meta.get("id") or file.relative_to(root).with_suffix("").as_posix()
    tags = [tag.strip() for tag in re.split(r"[,|]", meta.get("tags", "").strip("[]")) if tag.strip()]
    return Document(id=doc_id, title=title, text=text, tags=tags, url=meta.get("url") or None,
                    source=str(file))


def _front_matter(text: str, file: Path) -> tuple[dict[str, str], str]:
    """``---`` delimited ``key: value`` lines at the top (YAML subset: scalars and inline lists)."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return {}, text
    meta: dict[str, str] = {}
    for number, line in enumerate(lines[1:], start=2):
        if line.strip() in ("---", "..."):
            return meta, "\n".join(lines[number:])
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise InputError("front matter line is not 'key: value'", path=str(file), line=number,
                             field="front matter")
        key = key.strip().lower()
        if key in FRONT_MATTER_FIELDS:
            meta[key] = value.strip().strip("'\"")
    raise InputError("front matter is not closed with '---'", path=str(file), line=1, field="front matter")


def _first_line_url(text: str) -> tuple[str, str | None]:
    lines = text.lstrip().splitlines()
    if lines and (match := URL_LINE.match(lines[0])):
        return "\n".join(lines[1:]), match.group(1)
    return text, None


def _first_heading(text: str) -> str | None:
    for line in text.splitlines():
        if match := HEADING.match(line):
            return match.group(2)
    return None


def _title_from_name(file: Path) -> str:
    return re.sub(r"[-_]+", " ", file.stem).strip().capitalize()


class _HTMLToMarkdown(HTMLParser):
    """Collects the readable text of a page: headings become ``#`` lines, blocks paragraphs."""

    BLOCKS = {"p", "div", "li", "tr", "br", "section", "article", "blockquote", "pre", "dd", "dt",
              "table", "ul", "ol", "main", "header", "footer"}
    SKIP = {"script", "style", "noscript", "template", "svg", "nav"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.meta: dict[str, str] = {}
        self._skip_depth = 0
        self._in_title = False
        self._title: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key: value or "" for key, value in attrs}
        if tag in self.SKIP:
            self._skip_depth += 1
        elif tag == "title":
            self._in_title = True
        elif tag == "link" and "canonical" in values.get("rel", "").lower().split():
            self.meta.setdefault("url", values.get("href", "").strip())
        elif tag == "meta" and values.get("property", values.get("name", "")).lower() == "og:url":
            self.meta.setdefault("url", values.get("content", "").strip())
        elif re.fullmatch(r"h[1-6]", tag):
            self.parts.append("\n\n" + "#" * int(tag[1]) + " ")
        elif tag in self.BLOCKS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag == "title":
            self._in_title = False
        elif re.fullmatch(r"h[1-6]", tag) or tag in self.BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self._title.append(data)
        elif not self._skip_depth:
            self.parts.append(re.sub(r"\s+", " ", data))

    def result(self) -> tuple[str, dict[str, str]]:
        paragraphs = (re.sub(r"[ \t]+", " ", block).strip() for block in "".join(self.parts).split("\n\n"))
        title = re.sub(r"\s+", " ", "".join(self._title)).strip()
        if title:
            self.meta["title"] = title
        return "\n\n".join(p for p in paragraphs if p and p.strip("# ")), self.meta


def html_to_markdown(html: str) -> tuple[str, dict[str, str]]:
    """The page's text as light Markdown, and its ``title``/``url`` where the page states them."""
    parser = _HTMLToMarkdown()
    parser.feed(html)
    parser.close()
    return parser.result()
