"""The HTML report in a real browser: captured payloads cannot run, load or leak anything.

A capture carries script, event-handler, ``javascript:`` URL, CSS and SVG payloads in hosts,
paths, headers, JSON values, WebSocket messages, uploaded file names and the capture's own file
name. ``auditor report --reveal`` renders it (revealed values are the worst case) and headless
Chromium (Debian's ``/usr/bin/chromium`` through Playwright) opens the report:

- no payload runs: ``window.__pwned`` stays unset, the title stays, the exposed ``pwn`` binding
  is never called;
- no request leaves the page: the browser asks for the report's own file URL only, and a local
  HTTP server the payloads point at gets no hit;
- no console error, no page error and no Content-Security-Policy violation (each violation is
  sent to the console by a listener), while the report's own inline style sheet applies;
- at phone width (390 px) the page does not scroll sideways; printing (print media, PDF) works.

Two control runs show the checks can fail: a copy of the report without its CSP runs a payload,
and a copy whose style sheet no longer matches its hash reports a violation.
"""

from __future__ import annotations

import http.server
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hostile import corpus
from support.browser import chromium_browser

from auditor import cli

TITLE = "Privacy audit: where the data goes"

pytestmark = pytest.mark.e2e


class _Sink(http.server.BaseHTTPRequestHandler):
    """Counts every request; a payload that reaches it has made the page load something."""

    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        self.send_response(204)
        self.end_headers()

    do_POST = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def sink() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def payloads(sink: str) -> list[str]:
    """What a hostile app, tracker or server could put in its traffic to attack the report."""
    return [
        "<script>window.__pwned=1;document.title='pwned';window.pwn('script')</script>",
        '"><img src=x onerror="window.__pwned=2;window.pwn(\'img\')">',
        "'><svg onload=window.pwn('svg')><script>window.pwn('svg-script')</script></svg>",
        "<a href=\"javascript:window.pwn('a')\" id=pwnlink>javascript:window.pwn('url')</a>",
        f"</style><style>body{{background:url({sink}/css-bg)}}@import url({sink}/css-import);</style>",
        f'<div style="background-image:url({sink}/inline-style)">x</div>',
        f"<link rel=stylesheet href={sink}/link><base href={sink}/base/>",
        f"<img src={sink}/img><video src={sink}/video></video><audio src={sink}/audio></audio>",
        f"<iframe src={sink}/iframe></iframe><iframe srcdoc=\"<script>parent.pwn('srcdoc')</script>\"></iframe>",
        f"<object data={sink}/object></object><embed src={sink}/embed>",
        f"<meta http-equiv=refresh content=\"0;url={sink}/refresh\">",
        f"<form action={sink}/form><button autofocus onfocus=window.pwn('focus')>x</button></form>",
        "<noscript><p title=\"</noscript><img src=x onerror=window.pwn('mxss')>\"></noscript>",
        "<math><mtext><table><mglyph><style><img src=x onerror=window.pwn('math')>",
        "<svg><foreignObject><body onload=window.pwn('foreign')></body></foreignObject><animate onbegin=window.pwn('animate') attributeName=x dur=1s></svg>",
        "{{ 7*7 }}{% raw %}${7*7}<%= 7*7 %>",
        "\u202e<script>window.pwn('bidi')</script>\x1b[31m",
    ]


def hostile_capture(path: Path, sink: str) -> Path:
    """A flow file with every payload in every place a captured value can reach the report."""
    states = []
    for i, p in enumerate(payloads(sink)):
        body = json.dumps(
            {
                "model": "gpt-4o",
                "messages": [{"role": "user", "content": f"Please help {p} with my landlord"}],
                "password": f"{p} hunter2-secret",
                "email": f"user{i}@example.org",
                p: p,
            }
        ).encode()
        states.append(
            corpus.flow_state(
                2 * i,
                host=f"h{i}.{p}.example.com".lower(),
                path=f"/v1/chat/completions/{p}?q={p}&email=q{i}@example.org",
                headers=(
                    (b"content-type", b"application/json"),
                    (b"authorization", f"Bearer sk-proj-{i}{p}".encode()),
                    (b"x-note", p.encode()),
                    (b"cookie", f"session={p}; sid=abc{i}".encode()),
                ),
                body=body,
                websocket=[(1, True, json.dumps({"prompt_text": f"ws {p} question"}).encode(), 1.0)],
            )
        )
        boundary = b"XyZzY"
        multipart = (
            b"--" + boundary + b"\r\n"
            b'Content-Disposition: form-data; name="file"; filename="' + p.replace('"', "'").encode() + b'.png"\r\n'
            b"Content-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n\r\n--" + boundary + b"--\r\n"
        )
        states.append(
            corpus.flow_state(
                2 * i + 1,
                host="api.openai.com",
                path="/v1/files",
                headers=((b"content-type", b"multipart/form-data; boundary=" + boundary),),
                body=multipart,
            )
        )
    return corpus.write_flows(path, states)


def render_report(tmp: Path, sink: str) -> Path:
    """``auditor report --reveal`` of the hostile capture, whose file name is a payload too."""
    capture = hostile_capture(tmp / "<img src=x onerror=window.pwn('filename')>.flows", sink)
    out = tmp / "report"
    try:
        cli.main(["report", str(capture), "-o", str(out), "-f", "html,json", "--reveal", "-q"])
    except SystemExit as e:
        assert not e.code, e.code
    html = out.with_suffix(".html")
    doc = json.loads(out.with_suffix(".json").read_text())
    values = "\n".join(f["value"] for f in doc["findings"])
    for p in payloads(sink)[:3]:  # the payloads did reach the report, revealed
        assert p in values or p.lower() in json.dumps(doc, ensure_ascii=False)
    assert "user_file" in doc["summary"]["categories"]
    return html


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory, sink: str) -> Path:
    return render_report(tmp_path_factory.mktemp("report"), sink)


@dataclass
class Visit:
    """What the browser saw while showing a page."""

    requests: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    pwned: list[str] = field(default_factory=list)
    title: str = ""
    state: Any = None
    overflow: tuple[int, int] = (0, 0)


WATCH = """
window.__pwned = 0;
document.addEventListener('securitypolicyviolation', (e) => {
  console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' sample ' + e.sample);
});
"""


browser = chromium_browser()


def visit(browser: Any, html: Path, *, width: int = 1280, print_media: bool = False, shots: Path | None = None) -> Visit:
    """Open ``html`` from disk and record everything it tried."""
    v = Visit()
    context = browser.new_context(viewport={"width": width, "height": 900}, device_scale_factor=1)
    page = context.new_page()
    page.on("request", lambda r: v.requests.append(r.url))
    page.on("console", lambda m: v.console.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: v.errors.append(str(e)))
    page.expose_binding("pwn", lambda source, what: v.pwned.append(str(what)))
    page.add_init_script(WATCH)
    if print_media:
        page.emulate_media(media="print")
    page.goto(html.as_uri(), wait_until="load")
    page.wait_for_timeout(700)  # let anything delayed (handlers, refresh) try
    v.title = page.title()
    v.state = page.evaluate(
        """() => ({
          pwned: window.__pwned,
          fontSize: getComputedStyle(document.body).fontSize,
          csp: document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.content || '',
          evidence: document.querySelectorAll('#evidence table tr').length,
          links: [...document.querySelectorAll('a[href]')].map(a => [a.getAttribute('href'), a.rel || '']),
        })"""
    )
    v.overflow = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    if shots is not None:
        page.screenshot(path=str(shots))  # the first screen (a full page takes many seconds)
    context.close()
    return v


def assert_safe(v: Visit, html: Path) -> None:
    assert v.requests == [html.as_uri()], v.requests
    assert v.pwned == [], v.pwned
    assert v.state["pwned"] == 0 and v.title == TITLE
    assert v.errors == [], v.errors
    assert [c for c in v.console if not c.startswith(("log:", "info:", "debug:"))] == [], v.console
    assert "script-src 'none'" in v.state["csp"] and "default-src 'none'" in v.state["csp"]
    # No captured value became a link: links go to the page's own anchors, or are the sources
    # of auditor's data (owner and jurisdiction sources), opened without a referrer.
    sources = data_sources(html.with_suffix(".json"))
    for href, rel in v.state["links"]:
        if href.startswith("#"):
            assert re.fullmatch(r"#[a-z]+-[0-9A-Z]+|#warnings", href), href
        else:
            assert href in sources and "noreferrer" in rel, (href, rel)


def data_sources(report_json: Path) -> set[str]:
    """The sources of auditor's data that a report names (links may point there only)."""
    if not report_json.exists():
        return set()
    doc = json.loads(report_json.read_text("utf-8"))
    out = {(d.get("owner") or {}).get("source") for d in doc["destinations"]}
    for j in doc["jurisdictions"].values():
        out.add(j.get("adequacy_source"))
        out.update(g.get("source") for g in j.get("government_access", ()))
    return {s for s in out if isinstance(s, str) and s.startswith(("https://", "http://"))}


def test_hostile_values_cannot_act_in_the_report(browser: Any, report: Path, tmp_path: Path) -> None:
    _Sink.hits.clear()
    html = report
    v = visit(browser, html, shots=tmp_path / "desktop.png")
    assert_safe(v, html)
    assert v.state["fontSize"] == "15px"  # the report's own style sheet applies under its CSP
    assert v.state["evidence"] > 20
    assert _Sink.hits == []
    assert (tmp_path / "desktop.png").stat().st_size > 10_000


def test_phone_width_and_print(browser: Any, report: Path, tmp_path: Path) -> None:
    _Sink.hits.clear()
    html = report
    v = visit(browser, html, width=390, shots=tmp_path / "phone.png")
    assert_safe(v, html)
    assert v.state["fontSize"] == "14px"  # the narrow-screen rules apply
    scroll_width, inner_width = v.overflow
    assert scroll_width <= inner_width, f"page is {scroll_width}px wide at {inner_width}px"
    assert (tmp_path / "phone.png").stat().st_size > 10_000
    v = visit(browser, html, print_media=True)
    assert_safe(v, html)
    assert v.state["fontSize"] == "11px"  # the print rules apply
    assert _Sink.hits == []


def test_pdf_print(browser: Any, report: Path, tmp_path: Path) -> None:
    html = report
    context = browser.new_context()
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(html.as_uri(), wait_until="load")
    page.emulate_media(media="print")
    pdf = page.pdf(path=str(tmp_path / "report.pdf"), format="A4")
    context.close()
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    assert requests == [html.as_uri()]


def test_the_checks_can_fail(browser: Any, report: Path, tmp_path: Path) -> None:
    """Controls: without its CSP the same report runs a payload; a changed style sheet is a
    CSP violation. So the safety checks above do detect what they look for."""
    html = report
    text = html.read_text("utf-8")
    no_csp = tmp_path / "no-csp.html"
    injected = "<script>window.__pwned=9;window.pwn('control')</script>"
    no_csp.write_text(re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", text).replace("</main>", injected + "</main>"))
    v = visit(browser, no_csp)
    assert "control" in v.pwned and v.state["pwned"] == 9
    restyled = tmp_path / "restyled.html"
    restyled.write_text(text.replace("<style>", "<style>body{color:red}", 1))
    v = visit(browser, restyled)
    assert any("CSP violation: style-src" in c for c in v.console), v.console
    assert v.state["fontSize"] != "15px"  # the blocked sheet did not apply
