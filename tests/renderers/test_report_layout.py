"""The HTML report of the demo traffic, screenshot-tested in a real browser.

``auditor report`` renders the bundled capture (``fixtures/ai-chat-session.flows``: the traffic
of the scripted client that ``make demo`` runs live) and headless Chromium (Debian's
``/usr/bin/chromium`` through Playwright) opens it at phone width (390 px) and desktop width
(1280 px) and asserts on the DOM:

- the sections it promises are present and in order, Key findings first and before any table;
- each key finding links to an element of the page (its evidence or its destination);
- no horizontal scroll;
- no text whose rendered height is under 11 px: each visible text's box from
  ``getBoundingClientRect()`` and its font size times its screen scale (``getScreenCTM()`` for
  SVG text, whose labels shrink with the diagram);
- host names do not wrap a character or two per line; value cells stay wide enough to read;
- printed to A4 (``page.pdf()``), the report takes at most 6 pages.

The screenshots are saved as ``docs/report-phone.png`` and ``docs/report-desktop.png`` for the
README. Control runs show the checks can fail: an unstyled copy scrolls sideways at 390 px and a
copy with a 7 px rule has text under 11 px.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, ROOT
from support.browser import chromium_browser

from auditor import cli

DOCS = ROOT / "docs"
SECTIONS = ["key-findings", "answer", "where", "countries", "companies", "destinations", "evidence"]
MIN_TEXT_PX = 11.0
MAX_PAGES = 6

pytestmark = pytest.mark.e2e

browser = chromium_browser()


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "report"
    try:
        cli.main(["report", str(FIXTURES / "ai-chat-session.flows"), "-o", str(out), "-f", "html", "-q"])
    except SystemExit as e:
        assert not e.code, e.code
    return out.with_suffix(".html")


# Every visible text: its element's selector-ish name, its rendered box height, and its font size
# on screen (computed size times the screen scale of an SVG text).
MEASURE = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!n.textContent.trim()) continue;
    const el = n.parentElement;
    if (el.closest('title, style, script')) continue;
    const range = document.createRange();
    range.selectNodeContents(n);
    const box = range.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;  // not rendered (display: none, closed details)
    let size = parseFloat(getComputedStyle(el).fontSize);
    const svgText = el.closest('text');
    if (svgText) {
      const m = svgText.getScreenCTM();
      size *= Math.sqrt(m.a * m.a + m.b * m.b);
    }
    out.push({tag: el.tagName.toLowerCase() + (el.className && el.className.baseVal === undefined ? '.' + el.className : ''),
              text: n.textContent.trim().slice(0, 40), height: box.height, size: size});
  }
  return out;
}"""

LAYOUT = """() => {
  const ids = [...document.querySelectorAll('main > section[id]')].map(s => s.id);
  const key = document.getElementById('key-findings');
  const firstTable = document.querySelector('table');
  const keyFirst = !!(key && firstTable && (key.compareDocumentPosition(firstTable) & Node.DOCUMENT_POSITION_FOLLOWING));
  const links = [...document.querySelectorAll('#key-findings a[href^="#"]')].map(a => a.getAttribute('href').slice(1));
  const dangling = links.filter(id => !document.getElementById(id));
  const hosts = [...document.querySelectorAll('code.host')].filter(h => h.getClientRects().length).map(h => {
    const rects = [...h.getClientRects()];
    return {text: h.textContent, lines: rects.length, narrowest: Math.min(...rects.slice(0, -1).map(r => r.width), 1e9)};
  });
  const cells = [...document.querySelectorAll('td.value-cell')].map(td => td.getBoundingClientRect().width);
  return {ids, keyFirst, links, dangling, hosts, cells,
          scroll: document.documentElement.scrollWidth, inner: window.innerWidth,
          keyItems: document.querySelectorAll('#key-findings li').length,
          listShown: getComputedStyle(document.querySelector('.flow-list')).display !== 'none',
          svgShown: !!document.querySelector('svg.flow') && document.querySelector('svg.flow').getBoundingClientRect().width > 0,
          cards: getComputedStyle(document.querySelector('table.cards td')).display};
}"""


def look(browser: Any, html: Path, width: int, shot: Path | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    context = browser.new_context(viewport={"width": width, "height": 900}, device_scale_factor=1)
    page = context.new_page()
    page.goto(html.as_uri(), wait_until="load")
    layout = page.evaluate(LAYOUT)
    texts = page.evaluate(MEASURE)
    if shot is not None:
        page.screenshot(path=str(shot))
    context.close()
    return layout, texts


def small_texts(texts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [t for t in texts if t["height"] < MIN_TEXT_PX or t["size"] < MIN_TEXT_PX]


def check_layout(layout: dict[str, Any], width: int) -> None:
    assert [i for i in layout["ids"] if i in SECTIONS] == SECTIONS, layout["ids"]
    assert layout["ids"][0] == "key-findings"
    assert layout["keyFirst"], "Key findings come after a table"
    assert layout["keyItems"] >= 5 and layout["links"], layout
    assert layout["dangling"] == [], layout["dangling"]
    assert layout["scroll"] <= layout["inner"], f"page is {layout['scroll']}px wide at {width}px"
    assert layout["hosts"], "no host shown"
    for h in layout["hosts"]:
        # a host fits on one line or breaks into few, wide pieces (never a character per line)
        assert h["lines"] <= 2 and h["narrowest"] >= 80, h
    assert layout["cells"] and min(layout["cells"]) >= 100, layout["cells"]


def test_phone_width(browser: Any, report: Path) -> None:
    DOCS.mkdir(exist_ok=True)
    layout, texts = look(browser, report, 390, DOCS / "report-phone.png")
    check_layout(layout, 390)
    assert layout["cards"] == "block"  # tables became cards
    assert layout["listShown"] and not layout["svgShown"]  # the diagram became a list
    assert small_texts(texts) == [], small_texts(texts)[:10]
    assert (DOCS / "report-phone.png").stat().st_size > 10_000


def test_desktop_width(browser: Any, report: Path) -> None:
    layout, texts = look(browser, report, 1280, DOCS / "report-desktop.png")
    check_layout(layout, 1280)
    assert layout["cards"] == "table-cell"
    assert layout["svgShown"] and not layout["listShown"]
    assert any(t["tag"] == "text" for t in texts), "the diagram's labels were not measured"
    assert small_texts(texts) == [], small_texts(texts)[:10]


def test_prints_on_at_most_six_a4_pages(browser: Any, report: Path, tmp_path: Path) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(report.as_uri(), wait_until="load")
    page.emulate_media(media="print")
    pdf = page.pdf(path=str(tmp_path / "report.pdf"), format="A4")
    context.close()
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
    assert 1 <= pages <= MAX_PAGES, f"{pages} pages"


def test_the_checks_can_fail(browser: Any, report: Path, tmp_path: Path) -> None:
    """Controls: the same report without its style sheet scrolls sideways at phone width, and
    one whose diagram is forced into a narrow box has SVG labels under 11 px."""
    text = report.read_text("utf-8")
    unstyled = tmp_path / "unstyled.html"
    unstyled.write_text(re.sub(r"<style>.*?</style>", "", text, flags=re.S))
    layout, _ = look(browser, unstyled, 390)
    assert layout["scroll"] > layout["inner"]
    # Unblocking the CSP for a modified sheet: drop the policy, shrink the diagram to 390 px.
    squeezed = tmp_path / "squeezed.html"
    squeezed.write_text(
        re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", text).replace(
            "</style>", ".flow-wrap{display:block!important}svg.flow{width:100%!important}.flow-list{display:none!important}</style>", 1
        )
    )
    _, texts = look(browser, squeezed, 390)
    assert any(t["tag"] == "text" for t in small_texts(texts))
