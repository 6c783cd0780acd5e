from __future__ import annotations

import base64
import hashlib
import json
import re
from html import unescape
from html.parser import HTMLParser
from importlib import resources

import jsonschema
import pytest
from conftest import FIXTURES

from auditor.audit.pipeline import AuditOptions, Auditor, audit_paths
from auditor.models import Exchange, WebSocketMessage
from auditor.renderers import render
from auditor.renderers.markdown import md_code, md_escape

SCHEMA = json.loads(resources.files("auditor").joinpath("schema/audit-v1.schema.json").read_text())

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(2)>',
    "javascript:alert(3)",
    "</style><style>body{background:url(https://evil.example/x)}</style>",
    "<svg onload=alert(4)><a xlink:href='javascript:alert(5)'>",
    "{{ 7*7 }}{% raw %}",
    "| col | ``` [link](https://evil.example) <b>x</b>\n# heading",
]


def hostile_doc(reveal: bool = True) -> dict:
    a = Auditor(AuditOptions(reveal=reveal))
    for i, p in enumerate(PAYLOADS):
        body = json.dumps({"email": f"x{i}@example.org", "prompt": f"please {p}", "password": p, p: p})
        a.add_exchange(
            Exchange(
                capture=0, index=i, id=p, method="POST", scheme="https", host=f"h{i}.example.com", port=443,
                path=f"/{p}?q={p}", request_headers=[("content-type", "application/json"), ("x-note", p)],
                request_body=body.encode(), websocket=[WebSocketMessage(True, p.encode())],
            )
        )
    a.captures = []
    return a.document()


class TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attrs: set[str] = set()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for k, v in attrs:
            self.attrs.add(k)
            if k in ("href", "src", "action", "xlink:href", "srcset", "poster", "data"):
                self.urls.append(v or "")


ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "main", "footer", "section", "h1", "h2", "h3", "p",
    "ul", "li", "b", "i", "code", "small", "strong", "span", "br", "div", "table", "thead", "tbody", "tr", "th", "td",
    "svg", "path", "rect", "text",  # the inline flow diagram (presentation attributes only)
    "details", "summary",  # how a value was found (detector, confidence)
    "a",  # links to the page's own anchors and to the sources of auditor's data
}


def test_html_escapes_every_captured_value() -> None:
    html = render(hostile_doc(reveal=True), "html")
    p = TagCollector()
    p.feed(html)
    assert p.tags <= ALLOWED_TAGS, p.tags - ALLOWED_TAGS
    assert not any(a.startswith("on") for a in p.attrs)
    # links: the page's own anchors, or the http(s) sources from auditor's data files
    assert all(re.fullmatch(r"#(dest|ev|country)-[0-9A-Z]+|#warnings", u) or u.startswith("https://") for u in p.urls), p.urls
    assert not any(u.startswith("https://") and "example" in u for u in p.urls)  # no captured host
    assert "<script" not in html.lower() and "<img" not in html.lower()
    assert html.lower().count("<svg") == 1 and '<svg class="flow"' in html  # only the report's own diagram
    assert html.count("<style>") == 1
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown, as text


def test_html_has_a_strict_csp_matching_its_only_style() -> None:
    html = render(audit_paths([FIXTURES / "ai-chat-session.flows"]), "html")
    csp = unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1))
    style = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in csp
    for directive in ("default-src 'none'", "script-src 'none'", "img-src 'none'", "connect-src 'none'", "base-uri 'none'"):
        assert directive in csp
    assert not re.search(r"src\s*=", html)  # nothing is loaded
    # links are navigation only (a click), never loaded: to anchors, or sources opened without a referrer
    for a in re.findall(r"<a [^>]*>", html):
        assert re.fullmatch(r'<a href="#[a-z0-9A-Z-]+">', a) or re.fullmatch(r'<a href="https://[^"]+" rel="noreferrer noopener">', a), a
    assert "http-equiv" in html and "@import" not in style and "url(" not in style


def test_markdown_escapes_captured_text() -> None:
    assert md_escape("a|b\n<script>") == "a\\|b &lt;script&gt;"
    assert md_escape("[x](javascript:y)") == "\\[x\\]\\(javascript:y\\)"
    assert md_code("a`b|c\nd") == "`a'b¦c d`"
    md = render(hostile_doc(reveal=True), "md")
    assert "<script" not in md and "<img" not in md and "](https://evil" not in md
    tables: list[list[int]] = [[]]
    for line in md.splitlines():
        if line.startswith("|"):
            tables[-1].append(len(re.findall(r"(?<!\\)\|", line)))
        elif tables[-1]:
            tables.append([])
    tables = [t for t in tables if t]
    assert len(tables) == 2
    for t in tables:
        assert len(set(t)) == 1, t  # every row has as many cells as the header


@pytest.mark.parametrize("reveal", [False, True])
def test_json_follows_the_schema(reveal: bool) -> None:
    doc = audit_paths([FIXTURES / "ai-chat-session.flows"], AuditOptions(reveal=reveal))
    out = json.loads(render(doc, "json"))
    jsonschema.Draft202012Validator(SCHEMA).validate(out)
    assert out == json.loads(json.dumps(doc))


def test_schema_rejects_a_wrong_document() -> None:
    doc = json.loads(render(audit_paths([FIXTURES / "ai-chat-session.flows"]), "json"))
    doc["findings"][0]["category"] = "not_a_category"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(SCHEMA).validate(doc)


def test_hostile_document_is_still_valid_json_and_schema() -> None:
    out = json.loads(render(hostile_doc(reveal=False), "json"))
    jsonschema.Draft202012Validator(SCHEMA).validate(out)
    for f in out["findings"]:
        assert "<script>" not in f["value"] or f["category"] != "credential"


def test_empty_audit_renders() -> None:
    doc = Auditor().document()
    assert "No personal data was found" in render(doc, "html")
    assert "No personal data was found" in render(doc, "md")
    jsonschema.Draft202012Validator(SCHEMA).validate(json.loads(render(doc, "json")))


def test_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown format 'pdf'"):
        render({}, "pdf")
