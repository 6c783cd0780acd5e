"""The whole pipeline on the recorded fixture capture, as flows and as HAR."""

from __future__ import annotations

import pytest
from conftest import FIXTURES

from auditor.audit.pipeline import AuditOptions, Auditor, audit_paths
from auditor.models import Exchange

FLOWS = FIXTURES / "ai-chat-session.flows"
HAR = FIXTURES / "ai-chat-session.har"


def _key(doc: dict) -> list[tuple]:
    return sorted(
        (f["flow"]["index"], f["host"], f["category"], f["location"]["part"], f["location"]["path"], f["value_sha256"], f["value"])
        for f in doc["findings"]
    )


@pytest.fixture(scope="module")
def flows_doc() -> dict:
    return audit_paths([FLOWS])


def test_flows_and_har_give_the_same_findings(flows_doc: dict) -> None:
    har_doc = audit_paths([HAR])
    assert _key(flows_doc) == _key(har_doc)
    def strip(d: dict) -> list:
        return [(x["host"], x["owner"], x["party"], x["data_categories"], x["exchanges"], x["cleartext"]) for x in d["destinations"]]

    assert strip(flows_doc) == strip(har_doc)


def test_where_the_prompt_goes(flows_doc: dict) -> None:
    dests = {d["host"]: d for d in flows_doc["destinations"]}
    chat = dests["chat.deepseek.com"]
    assert chat["party"] == "first" and chat["owner"]["country"] == "CN" and "prompt" in chat["data_categories"]
    applog = dests["mcs.volceapplog.com"]
    assert applog["party"] == "third" and applog["owner"]["country"] == "CN" and applog["category"] == "analytics"
    assert "prompt" in applog["data_categories"]
    prompt_in_analytics = [
        f for f in flows_doc["findings"] if f["host"] == "mcs.volceapplog.com" and f["category"] == "prompt"
    ]
    assert [f["location"]["path"] for f in prompt_in_analytics] == ["event_v3[0].params.prompt_text"]
    assert dests["alog.umeng.com"]["cleartext"] is True
    sentry = next(h for h in dests if h.endswith(".ingest.sentry.io"))
    assert dests[sentry]["owner"]["country"] == "US" and "email" in dests[sentry]["data_categories"]
    emails = [f["location"]["path"] for f in flows_doc["findings"] if f["host"] == sentry and f["category"] == "email"]
    assert emails == ["[2].user.email"]


def test_values_are_masked_unless_revealed(flows_doc: dict) -> None:
    revealed = audit_paths([FLOWS], AuditOptions(reveal=True))
    raw = {f["value_sha256"]: f["value"] for f in revealed["findings"]}
    for f in flows_doc["findings"]:
        assert f["value"] != raw[f["value_sha256"]] or len(f["value"]) <= 3
        assert raw[f["value_sha256"]] not in f["request"]["url"] or len(raw[f["value_sha256"]]) < 3
    assert revealed["revealed"] is True and flows_doc["revealed"] is False


def test_first_party_can_be_named() -> None:
    doc = audit_paths([FLOWS], AuditOptions(first_party=("volceapplog.com",)))
    parties = {d["host"]: d["party"] for d in doc["destinations"]}
    assert parties["mcs.volceapplog.com"] == "first"
    assert parties["chat.deepseek.com"] == "third"


def test_unknown_owner_stays_unknown() -> None:
    a = Auditor()
    a.add_exchange(Exchange(capture=0, index=0, id="1", method="GET", scheme="https", host="api.unknown-vendor.example", port=443, path="/"))
    (d,) = a.document()["destinations"]
    assert d["owner"] is None and d["party"] == "unknown" and d["category"] is None


def test_capture_summary(flows_doc: dict) -> None:
    (cap,) = flows_doc["captures"]
    assert cap["format"] == "mitmproxy" and cap["exchanges"] == flows_doc["summary"]["exchanges"] > 10
    assert cap["path"] == str(FLOWS)
