"""``operator_ui.mount`` on a bare FastAPI app (it needs nothing of the engine): the pages with their
security headers, /widget.js, the static modules; and nothing in the package that could set text as
HTML or reach a CDN."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

import operator_ui


def client() -> TestClient:
    app = FastAPI()
    operator_ui.mount(app)
    return TestClient(app)


def test_pages_widget_and_modules_are_served() -> None:
    with client() as http:
        for path in operator_ui.PAGES:
            page = http.get(path)
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
            assert "script-src 'self'" in page.headers["content-security-policy"]
        loader = http.get("/widget.js")
        assert loader.status_code == 200 and loader.headers["content-type"].startswith("text/javascript")
        assert "/ui/js/widget.js" in loader.text
        assert http.get("/ui/js/widget.js").status_code == 200
        assert http.get("/ui/css/widget.css").status_code == 200
        assert http.get("/ui/js/nope.js").status_code == 404
        assert '<script src="/widget.js" defer></script>' in http.get("/demo").text


def test_no_html_sinks_and_no_outside_resources() -> None:
    sources = [*operator_ui.STATIC_DIR.rglob("*.js"), *operator_ui.STATIC_DIR.rglob("*.css"),
               *(operator_ui.STATIC_DIR.parent / "pages").glob("*.html")]
    assert len(sources) > 10
    for path in sources:
        text = "\n".join(line for line in path.read_text().splitlines() if not line.lstrip().startswith("//"))
        assert not re.search(r"innerHTML|outerHTML\s*=|insertAdjacentHTML|document\.write|eval\(", text), path
        assert not re.search(r"""(src|href)=["']https?://""", text), f"{path} loads something from outside"
