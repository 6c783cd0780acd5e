"""auditor browse against local sites served on loopback under real-looking names (--map).

``tests/browse_site/server.py`` serves a chat page that keylogs, fingerprints, sets third-party
cookies, runs the real rrweb session-replay SDK (installed by npm from the pinned lock file in
``tests/browse_site``, at test time) and fires a Meta pixel; a clean chat page that does none of
it; and a page without a chat input. Headless Debian Chromium, driven by Playwright.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, TEXT_HEIGHTS, need

from auditor.gate import parse_policy, run_check

pytestmark = pytest.mark.e2e

SITE_DIR = ROOT / "tests" / "browse_site"
PROMPT = "Plan a weekend in Lisbon for two, we love old trams"
TRACKERS = {"t.trackly.test", "cdn.trackly.test", "cdn.replayly.test", "ingest.replayly.test", "www.facebook.com"}


@pytest.fixture(scope="module")
def rrweb_js(tmp_path_factory: pytest.TempPathFactory) -> Path:
    npm = shutil.which("npm")
    need(npm is not None, "npm is not installed (the tests install the rrweb SDK with it)")
    need(Path("/usr/bin/chromium").exists(), "Debian's chromium is not installed (apt-get install chromium)")
    work = tmp_path_factory.mktemp("npm")
    for name in ("package.json", "package-lock.json"):
        shutil.copy(SITE_DIR / name, work / name)
    proc = subprocess.run([str(npm), "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=work, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    js = work / "node_modules" / "rrweb" / "dist" / "rrweb.umd.min.cjs"
    assert js.is_file()
    return js


@pytest.fixture(scope="module")
def site(rrweb_js: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    import importlib.util

    sys.path.insert(0, str(ROOT))
    from fixtures.record import _self_signed_context

    spec = importlib.util.spec_from_file_location("browse_site_server", SITE_DIR / "server.py")
    assert spec and spec.loader
    server = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(server)
    with server.Site(rrweb_js, _self_signed_context(tmp_path_factory.mktemp("cert"))) as s:
        yield s


def browse(out: Path, site: Any, url: str, *extra: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    maps = [a for m in site.maps() for a in ("--map", m)]
    proc = subprocess.run(
        [sys.executable, "-m", "auditor", "browse", url, *maps, "--upstream-insecure", "--block-unmapped",
         "-o", str(out), "--confdir", str(out.parent / "mitmproxy-conf"), "-f", "html,json,md", "--settle", "5", *extra],
        capture_output=True, text=True, timeout=300,
    )
    report = out / "report.json"
    return proc, json.loads(report.read_text()) if report.exists() else {}


def kinds(doc: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(d["behaviour"], d["kind"], d["host"]) for d in doc["page"]["detections"]}


@pytest.fixture(scope="module")
def tracking(site: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str], dict[str, Any]]:
    out = tmp_path_factory.mktemp("tracking") / "out"
    proc, doc = browse(out, site, "https://chat.example.test/", "--prompt", PROMPT)
    assert proc.returncode == 0, proc.stderr
    return out, proc, doc


def test_every_detection_fires_on_the_tracking_page(tracking: tuple[Path, Any, dict[str, Any]]) -> None:
    _out, proc, doc = tracking
    found = kinds(doc)
    expected = {
        ("keylogging", "canary", "t.trackly.test"),  # the keylogger's beacons carried the canary
        ("keylogging", "prompt_before_submit", "t.trackly.test"),
        ("fingerprinting", "canvas", "cdn.trackly.test"),
        ("fingerprinting", "navigator", "cdn.trackly.test"),
        ("fingerprinting", "audio", "cdn.trackly.test"),
        ("fingerprinting", "fonts", "cdn.trackly.test"),
        ("third_party_cookies", "set-cookie", "t.trackly.test"),
        ("third_party_cookies", "script", "cdn.trackly.test"),
        ("session_replay", "script", "cdn.replayly.test"),
        ("session_replay", "payload", "ingest.replayly.test"),
        ("pixels", "meta_pixel", "www.facebook.com"),
    }
    assert expected <= found, sorted(expected - found)
    # Nothing is blamed on the site itself, and every detection is a tracker of the test page.
    assert {host for _, _, host in found} <= TRACKERS
    page = doc["page"]
    assert page["site"] == "chat.example.test" and page["canary"] is True and page["prompts_typed"] == 1
    assert all(page["summary"][b] >= 1 for b in ("keylogging", "session_replay", "fingerprinting", "third_party_cookies", "pixels"))
    # The prompt itself went to the chat's own API, which is the first party.
    dests = {d["host"]: d for d in doc["destinations"]}
    assert dests["chat.example.test"]["party"] == "first"
    assert "prompt" in dests["chat.example.test"]["data_categories"]
    assert "the page: keylogging" in proc.stderr.splitlines()[-1]


def test_each_detection_carries_its_evidence(tracking: tuple[Path, Any, dict[str, Any]]) -> None:
    _, _, doc = tracking
    by = {(d["behaviour"], d["kind"], d["host"]): d for d in doc["page"]["detections"]}
    canary = by[("keylogging", "canary", "t.trackly.test")]
    assert canary["request"]["method"] == "POST" and canary["request"]["url"] == "https://t.trackly.test/k"
    assert isinstance(canary["flow"]["index"], int) and canary["party"] == "third"
    early = by[("keylogging", "prompt_before_submit", "t.trackly.test")]
    assert early["detail"].startswith("prompt text sent ") and early["detail"].endswith(" s before it was submitted")
    canvas = by[("fingerprinting", "canvas", "cdn.trackly.test")]
    assert canvas["script"] == "https://cdn.trackly.test/t.js" and canvas["detail"] == "HTMLCanvasElement.toDataURL"
    assert by[("fingerprinting", "audio", "cdn.trackly.test")]["detail"] == "OfflineAudioContext.startRendering"
    assert by[("fingerprinting", "fonts", "cdn.trackly.test")]["detail"] == "20 fonts measured"
    nav = by[("fingerprinting", "navigator", "cdn.trackly.test")]
    assert {"userAgent", "hardwareConcurrency", "plugins"} <= set(nav["detail"].removeprefix("navigator.{").removesuffix("}").split(", "))
    assert by[("third_party_cookies", "set-cookie", "t.trackly.test")]["cookies"] == ["tid"]
    assert by[("third_party_cookies", "script", "cdn.trackly.test")]["cookies"] == ["tk_uid"]
    assert by[("session_replay", "script", "cdn.replayly.test")]["script"] == "https://cdn.replayly.test/rrweb.min.js"
    assert by[("session_replay", "payload", "ingest.replayly.test")]["request"]["url"] == "https://ingest.replayly.test/v1/batch"
    pixel = by[("pixels", "meta_pixel", "www.facebook.com")]
    assert pixel["detail"] == "Meta Pixel event PageView" and pixel["owner"] == "Meta Platforms, Inc."


def test_outputs_are_written_owner_only_and_masked(tracking: tuple[Path, Any, dict[str, Any]]) -> None:
    out, _, _doc = tracking
    for name in ("capture.flows", "page-events.jsonl", "report.html", "report.json", "report.md"):
        assert (out / name).stat().st_mode & 0o777 == 0o600, name
    events = [json.loads(line) for line in (out / "page-events.jsonl").read_text().splitlines()]
    session = events[0]
    assert session["type"] == "session" and session["detail"]["prompts"] == [PROMPT]
    canary = session["detail"]["canary"]
    assert [e["type"] for e in events if e["source"] == "driver"] == ["session", "navigate", "type", "clear", "type", "submit", "settled"]
    for name in ("report.html", "report.json", "report.md"):
        text = (out / name).read_text()
        assert canary not in text and PROMPT[:20] not in text, name


def test_offline_rebuild_equals_the_live_report(tracking: tuple[Path, Any, dict[str, Any]], tmp_path: Path) -> None:
    out, _, live = tracking
    proc = subprocess.run([sys.executable, "-m", "auditor", "report", str(out / "capture.flows"), "-f", "json", "-o", "-", "-q"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    offline = json.loads(proc.stdout)
    assert offline["page"] == live["page"]
    strip = lambda doc: [(d["host"], d["party"], d["data_categories"]) for d in doc["destinations"]]  # noqa: E731
    assert strip(offline) == strip(live)
    assert [f["value_sha256"] for f in offline["findings"]] == [f["value_sha256"] for f in live["findings"]]
    # The events can also be named explicitly, from anywhere.
    moved = tmp_path / "events.jsonl"
    shutil.copy(out / "page-events.jsonl", moved)
    proc = subprocess.run([sys.executable, "-m", "auditor", "report", str(out / "capture.flows"), "--page-events", str(moved), "-f", "json", "-o", "-", "-q"],
                          capture_output=True, text=True, timeout=300)
    assert json.loads(proc.stdout)["page"] == live["page"]


def test_report_validates_against_the_schema(tracking: tuple[Path, Any, dict[str, Any]]) -> None:
    import jsonschema

    schema = json.loads((ROOT / "auditor" / "schema" / "audit-v1.schema.json").read_text())
    jsonschema.validate(tracking[2], schema)


def test_policy_denies_page_behaviours(tracking: tuple[Path, Any, dict[str, Any]], tmp_path: Path) -> None:
    out, _, doc = tracking
    policy = parse_policy(
        "version: 1\nrules:\n"
        "  - id: no-keylogging\n    deny: {keylogging: true}\n"
        "  - id: no-first-party-fingerprinting\n    deny: {fingerprinting: true, party: first}\n"
        "  - id: no-prompts-to-third-parties\n    deny: {categories: [prompt], party: third}\n"
    )
    result = run_check(policy, doc)
    by_rule = {r.rule.id: r for r in result.rules}
    keylog = by_rule["no-keylogging"].violations
    assert {v.finding["host"] for v in keylog} == {d["host"] for d in doc["page"]["detections"] if d["behaviour"] == "keylogging"}
    assert all(v.finding["category"] == "page:keylogging" for v in keylog)
    assert by_rule["no-first-party-fingerprinting"].violations == []
    assert all(v.finding["category"] == "prompt" for v in by_rule["no-prompts-to-third-parties"].violations)
    assert not result.passed
    path = tmp_path / "policy.yaml"
    path.write_text("version: 1\nrules:\n  - id: no-keylogging\n    deny: {keylogging: true}\n")
    proc = subprocess.run([sys.executable, "-m", "auditor", "check", str(out / "capture.flows"), "--policy", str(path)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1 and "FAIL no-keylogging" in proc.stdout + proc.stderr


def test_clean_page_reports_nothing(site: Any, tmp_path: Path) -> None:
    out = tmp_path / "out"
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nrules:\n  - id: no-keylogging\n    deny: {keylogging: true}\n")
    proc, doc = browse(out, site, "https://clean.example.test/", "--prompt", PROMPT, "--policy", str(policy))
    assert proc.returncode == 0, proc.stderr
    page = doc["page"]
    assert page["detections"] == []
    assert page["summary"] == {"keylogging": 0, "session_replay": 0, "fingerprinting": 0, "third_party_cookies": 0, "pixels": 0}
    assert page["site"] == "clean.example.test" and page["events"] >= 7
    prompts = [f["host"] for f in doc["findings"] if f["category"] == "prompt"]
    assert prompts == ["clean.example.test"]


def test_page_without_chat_input_is_one_line_and_exit_2(site: Any, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc, doc = browse(out, site, "https://plain.example.test/", "--prompt", PROMPT)
    assert proc.returncode == 2
    last = proc.stderr.splitlines()[-1]
    assert last.startswith("auditor: error: no chat input found on https://plain.example.test/ (tried: textarea, ")
    assert last.endswith("; name it with --input SELECTOR")
    assert "Traceback" not in proc.stderr
    assert doc["page"]["detections"] == [] and (out / "capture.flows").exists()  # what was captured is reported


def test_page_that_does_not_load_is_one_line_and_exit_2(site: Any, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc, doc = browse(out, site, "https://nowhere.example.test/", "--prompt", PROMPT)
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[-1].startswith("auditor: error: could not load https://nowhere.example.test/: ")
    assert "Traceback" not in proc.stderr and doc["page"]["canary"] is True


def test_user_script_and_profile(site: Any, tmp_path: Path) -> None:
    marker = tmp_path / "ran.txt"
    script = tmp_path / "login.py"
    script.write_text(f"def run(page, context):\n    open({str(marker)!r}, 'w').write(page.title())\n")
    profile = tmp_path / "profile"
    proc, _doc = browse(tmp_path / "out", site, "https://clean.example.test/", "--script", str(script), "--input", "#box", "--profile", str(profile))
    assert proc.returncode == 0, proc.stderr
    assert marker.read_text() == "Example Chat"
    assert (profile / "Default").is_dir()  # the persistent profile was used (and kept for the next run)
    bad = tmp_path / "bad.py"
    bad.write_text("x = 1\n")
    proc, _ = browse(tmp_path / "out2", site, "https://clean.example.test/", "--script", str(bad))
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[-1] == f"auditor: error: {bad}: defines no run(page, context) function"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ftp://chat.example.test/"], "auditor: error: not a web page address: 'ftp://chat.example.test/' (expected http:// or https://)"),
        (["https://chat.example.test/", "--script", "/nonexistent/login.py"], "auditor: error: /nonexistent/login.py: no such file (--script)"),
    ],
)
def test_bad_arguments_are_one_line(args: list[str], message: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "auditor", "browse", *args], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr == message + "\n"



def test_what_the_page_does_section_is_screenshot_tested(tracking: tuple[Path, Any, dict[str, Any]]) -> None:
    """The HTML section in headless Chromium: its elements in order, no horizontal scroll at
    390 and 1280 px, no text under 11 px; the 1280 px picture goes to docs/ for the README."""
    from playwright.sync_api import sync_playwright

    out, _, _ = tracking
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        try:
            for width in (390, 1280):
                page = browser.new_page(viewport={"width": width, "height": 900})
                page.goto((out / "report.html").as_uri())
                ids = page.eval_on_selector_all("main > section", "els => els.map(e => e.id)")
                assert "page" in ids and ids.index("page") < ids.index("destinations") < ids.index("evidence")
                assert page.inner_text("#page h2") == "What the page does"
                items = page.eval_on_selector_all("#page ul.behaviours > li", "els => els.map(e => e.id)")
                assert items == ["page-keylogging", "page-session_replay", "page-fingerprinting", "page-third_party_cookies", "page-pixels"]
                headings = page.eval_on_selector_all("#page h3", "els => els.map(e => e.textContent)")
                assert headings == ["Keylogging", "Session replay", "Fingerprinting", "Third-party cookies", "Ad pixels"]
                assert page.evaluate("document.documentElement.scrollWidth") <= width, f"horizontal scroll at {width} px"
                small = [(t, h) for t, h in page.evaluate(TEXT_HEIGHTS, "#page") if h < 11]
                assert not small, f"text under 11 px at {width} px: {small[:5]}"
                if width == 1280:
                    page.locator("#page").screenshot(path=str(ROOT / "docs" / "browse-page.png"))
                page.close()
        finally:
            browser.close()
