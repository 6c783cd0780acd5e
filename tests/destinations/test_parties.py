"""Parties: the app's operator (first), everyone else (third), the browser's or OS's own traffic
(platform), and how the first party was decided."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES

from auditor.audit.pipeline import AuditOptions, Auditor, audit_paths
from auditor.destinations.parties import FirstPartyError
from auditor.gate import parse_policy, render_text, run_check
from auditor.models import Exchange

PROMPT = "Write a formal complaint to my landlord about the mould in the bathroom of flat 3"
SITE = "https://chat.parlochat.com/"


def ex(i: int, host: str, path: str = "/", headers: dict[str, str] | None = None, body: Any = None) -> Exchange:
    hs = [("content-type", "application/json"), *list((headers or {}).items())]
    return Exchange(
        capture=0, index=i, id=str(i), method="POST" if body is not None else "GET", scheme="https", host=host,
        port=443, path=path, request_headers=hs, request_body=json.dumps(body).encode() if body is not None else b"",
        status=200,
    )  # fmt: skip


def navigate(site: str = "none", referer: str | None = None) -> dict[str, str]:
    h = {"sec-fetch-dest": "document", "sec-fetch-mode": "navigate", "sec-fetch-site": site}
    if referer:
        h["referer"] = referer
    return h


def from_page(page: str = SITE, site: str = "cross-site") -> dict[str, str]:
    return {"sec-fetch-dest": "empty", "sec-fetch-mode": "cors", "sec-fetch-site": site,
            "origin": page.rstrip("/"), "referer": page}  # fmt: skip


def audit(exchanges: list[Exchange], **options: Any) -> dict[str, Any]:
    a = Auditor(AuditOptions(**options))
    for e in exchanges:
        a.add_exchange(e)
    return a.document()


def parties(doc: dict[str, Any]) -> dict[str, str]:
    return {d["host"]: d["party"] for d in doc["destinations"]}


CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": PROMPT}]}


def browser_session() -> list[Exchange]:
    return [
        ex(0, "chat.parlochat.com", "/", navigate()),
        ex(1, "static.parlochat.com", "/app.js", from_page(site="same-site")),
        ex(2, "cdn.jsdelivr.net", "/npm/marked/marked.min.js", from_page()),
        ex(3, "api.openai.com", "/v1/chat/completions", from_page(), CHAT),
        ex(4, "www.google-analytics.com", "/g/collect?v=2&tid=G-1", from_page(), {"label": PROMPT}),
        ex(5, "securepubads.g.doubleclick.net", "/gampad/ads", from_page()),
        ex(6, "update.googleapis.com", "/service/update2/json", {}, {"request": {"os": "linux"}}),
        ex(7, "accounts.google.com", "/ListAccounts", {}, {}),
    ]


def test_browser_capture_the_pages_site_is_first_and_nothing_else() -> None:
    doc = audit(browser_session())
    assert parties(doc) == {
        "chat.parlochat.com": "first",
        "static.parlochat.com": "first",
        "cdn.jsdelivr.net": "third",
        "api.openai.com": "third",  # a public AI API called by someone else's app
        "www.google-analytics.com": "third",
        "securepubads.g.doubleclick.net": "third",
        "update.googleapis.com": "platform",  # the browser's own background traffic
        "accounts.google.com": "platform",  # no page contacted it: the browser's account check
    }
    fp = doc["first_party"]
    assert (fp["method"], fp["guessed"], fp["inferred"], fp["sites"]) == ("browser", False, True, ["parlochat.com"])
    assert fp["hosts"] == ["chat.parlochat.com", "static.parlochat.com"]
    assert "Sec-Fetch-Dest: document" in fp["basis"]
    dests = {d["host"]: d for d in doc["destinations"]}
    assert dests["api.openai.com"]["category"] == "ai_provider"
    assert "prompt" in dests["www.google-analytics.com"]["data_categories"]


def test_without_browser_evidence_the_same_traffic_guesses_no_ai_api_as_the_app() -> None:
    bare = [ex(e.index, e.host, e.path, {}, json.loads(e.request_body) if e.request_body else None) for e in browser_session()]
    doc = audit(bare)
    p = parties(doc)
    assert p["api.openai.com"] == "third" and p["www.google-analytics.com"] == "third"
    assert p["update.googleapis.com"] == "platform" and p["accounts.google.com"] == "third"  # sign-in: a third party
    assert "first" not in p.values()
    assert doc["first_party"]["method"] == "none"


def test_several_top_level_sites_same_tab_navigation_and_sign_in() -> None:
    doc = audit([
        ex(0, "chat.parlochat.com", "/", navigate()),
        ex(1, "accounts.google.com", "/o/oauth2/auth", navigate("cross-site", SITE)),  # sign-in: third
        ex(2, "chat.parlochat.com", "/callback", navigate("cross-site", "https://accounts.google.com/")),
        ex(3, "help.parlohelp.com", "/faq", navigate("cross-site", SITE)),  # the user follows a link
        ex(4, "news.example-ads.net", "/landing", navigate("cross-site")),  # not from a first-party page
        ex(6, "adclick.g.doubleclick.net", "/pcs/click", navigate("cross-site", SITE)),  # an ad clicked: never first
        ex(5, "cdn.parlohelp.com", "/help.css", from_page("https://help.parlohelp.com/faq", "same-site")),
    ])  # fmt: skip
    assert parties(doc) == {
        "chat.parlochat.com": "first",
        "accounts.google.com": "third",
        "help.parlohelp.com": "first",
        "news.example-ads.net": "third",
        "cdn.parlohelp.com": "first",
        "adclick.g.doubleclick.net": "third",
    }
    assert doc["first_party"]["sites"] == ["parlochat.com", "parlohelp.com"]


def test_vendor_host_on_the_apps_domain_is_third_and_says_so() -> None:
    doc = audit([
        ex(0, "chatgpt.com", "/", navigate()),
        ex(1, "ab.chatgpt.com", "/v1/initialize", from_page("https://chatgpt.com/", "same-site"), {"user": {"userID": "u-1"}}),
        ex(2, "cdn.oaistatic.com", "/assets/app.js", from_page("https://chatgpt.com/")),
        ex(3, "events.statsigapi.net", "/v1/rgstr", from_page("https://chatgpt.com/"), {"events": []}),
    ])  # fmt: skip
    dests = {d["host"]: d for d in doc["destinations"]}
    assert dests["chatgpt.com"]["party"] == "first" and dests["cdn.oaistatic.com"]["party"] == "first"  # same owner
    assert dests["ab.chatgpt.com"]["party"] == "third"
    assert dests["ab.chatgpt.com"]["party_note"] == "on the app's domain, run by Statsig, Inc."
    assert dests["events.statsigapi.net"]["party"] == "third"  # its parent company is the app's: still a third party
    assert dests["chatgpt.com"]["party_note"] is None


def test_guessed_backend_never_an_ai_api_nor_a_tracker_through_its_parent() -> None:
    deepseek = {"chat_session_id": "5b1c7f0e-2a9d-4c3b-8e6f-1d0a9b8c7e6f", "prompt": PROMPT, "ref_file_ids": []}
    doc = audit([
        ex(0, "chat.deepseek.com", "/api/v0/chat/completion", {}, deepseek),
        ex(1, "api.openai.com", "/v1/chat/completions", {}, CHAT),
        ex(2, "events.statsigapi.net", "/v1/rgstr", {}, {"events": [{"eventName": "send", "metadata": {"prompt": PROMPT}}]}),
    ])  # fmt: skip
    assert parties(doc) == {"chat.deepseek.com": "first", "api.openai.com": "third", "events.statsigapi.net": "third"}
    fp = doc["first_party"]
    assert (fp["method"], fp["guessed"], fp["hosts"]) == ("backend", True, ["chat.deepseek.com"])
    pol = parse_policy("version: 1\nrules:\n  - id: prompts-first-party-only\n    deny: {categories: [prompt], party: third}\n")
    result = run_check(pol, doc)
    assert {v.finding["host"] for v in result.rules[0].violations} == {"api.openai.com", "events.statsigapi.net"}
    text = render_text(result)
    assert "first party: Hangzhou DeepSeek" in text
    assert "\nwarning: the first party was guessed; name it with --first-party or first_party: in the policy\n" in text


def test_named_owner_matches_on_word_boundaries_and_never_through_a_parent() -> None:
    traffic = [
        ex(0, "api.openai.com", "/v1/chat/completions", {}, CHAT),
        ex(1, "events.statsigapi.net", "/v1/rgstr", {}, {"events": []}),
        ex(2, "copilot.microsoft.com", "/c/api/conversations", {}, {}),
    ]
    doc = audit(traffic, first_party=("openai",))
    assert parties(doc) == {"api.openai.com": "first", "events.statsigapi.net": "third", "copilot.microsoft.com": "third"}
    assert (doc["first_party"]["method"], doc["first_party"]["inferred"]) == ("option", False)
    assert parties(audit(traffic, first_party=("Microsoft",)))["copilot.microsoft.com"] == "first"
    with pytest.raises(FirstPartyError) as e:
        audit(traffic, first_party=("Micro",))
    assert str(e.value) == "--first-party 'Micro' matches no host, domain or owner in the capture; closest owners: Microsoft Corporation"
    with pytest.raises(FirstPartyError, match=r"^first_party: 'Statsig Inc' matches no host"):
        audit(traffic, first_party=("Statsig Inc",), first_party_origin="policy")


def test_har_pages_name_the_top_level_site(tmp_path: Path) -> None:
    def entry(url: str, body: Any = None) -> dict[str, Any]:
        req: dict[str, Any] = {"method": "POST" if body else "GET", "url": url, "httpVersion": "HTTP/2", "headers": [],
                               "queryString": [], "cookies": [], "headersSize": -1, "bodySize": -1}  # fmt: skip
        if body:
            req["postData"] = {"mimeType": "application/json", "text": json.dumps(body)}
        return {"pageref": "page_1", "startedDateTime": "2026-12-01T10:00:00Z", "time": 1, "request": req,
                "response": {"status": 200, "statusText": "", "httpVersion": "HTTP/2", "headers": [], "cookies": [],
                             "content": {"size": 0, "mimeType": "text/plain"}, "redirectURL": "", "headersSize": -1, "bodySize": 0},
                "cache": {}, "timings": {"send": 0, "wait": 1, "receive": 0}}  # fmt: skip

    har = {"log": {"version": "1.2", "creator": {"name": "WebInspector", "version": "537.36"},
                   "pages": [{"startedDateTime": "2026-12-01T10:00:00Z", "id": "page_1", "title": "https://write.quillnote.io/new",
                              "pageTimings": {}}],
                   "entries": [entry("https://api.anthropic.com/v1/messages", {"model": "claude", "max_tokens": 64,
                                                                              "messages": [{"role": "user", "content": PROMPT}]}),
                               entry("https://api2.amplitude.com/2/httpapi", {"events": [{"event_type": "send"}]}),
                               entry("https://write.quillnote.io/api/drafts", {"title": "draft"})]}}  # fmt: skip
    path = tmp_path / "session.har"
    path.write_text(json.dumps(har))
    doc = audit_paths([path])
    assert parties(doc) == {"api.anthropic.com": "third", "api2.amplitude.com": "third", "write.quillnote.io": "first"}
    assert doc["first_party"]["method"] == "browser" and "log.pages" in doc["first_party"]["basis"]


@pytest.mark.e2e
def test_cli_unmatched_first_party_is_one_line_and_exit_2() -> None:
    flows = FIXTURES / "ai-chat-session.flows"
    p = subprocess.run([sys.executable, "-m", "auditor", "report", str(flows), "--first-party", "Deepsek", "-f", "json", "-o", "-"],
                       capture_output=True, text=True, timeout=120)  # fmt: skip
    assert p.returncode == 2 and p.stdout == ""
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "'Deepsek' matches no host, domain or owner in the capture; closest owners: " in lines[0]
    assert "Hangzhou DeepSeek" in lines[0]


@pytest.mark.e2e
def test_policy_first_party_is_used_by_check(tmp_path: Path) -> None:
    flows = FIXTURES / "ai-chat-session.flows"
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nfirst_party: [deepseek.com, Microsoft]\nrules:\n  - id: p\n    deny: {categories: [prompt], party: third}\n")
    out = tmp_path / "check.json"
    p = subprocess.run([sys.executable, "-m", "auditor", "check", str(flows), "--policy", str(policy), "--json", str(out)],
                       capture_output=True, text=True, timeout=120)  # fmt: skip
    assert p.returncode == 1, p.stderr
    assert "first party: Hangzhou DeepSeek Artificial Intelligence Basic Technology Research Co., Ltd., Microsoft Corporation" in p.stdout
    assert "guessed" not in p.stdout
    doc = json.loads(out.read_text())
    assert doc["first_party"]["method"] == "policy" and doc["check"]["first_party"]["method"] == "policy"
    party = {d["host"]: d["party"] for d in doc["destinations"]}
    assert party["copilot.microsoft.com"] == "first" and party["mcs.volceapplog.com"] == "third"
