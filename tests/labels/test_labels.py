"""Declared vs observed: store privacy labels against the bundled capture (``auditor labels``,
``auditor check --declared``), the three declaration formats, drafts and bad input.

What the recorded session sends and to whom is known from ``fixtures/record.py`` (see
``fixtures/README.md``, request numbers #0-#13 in file order): the expectations below are
written from that, not from the tool's output.
"""

from __future__ import annotations

import csv
import io
import json
import plistlib
import subprocess
import sys
import xml.etree.ElementTree as ET
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import FIXTURES, ROOT
from support.junit import check_junit_shape

from auditor.labels import LabelsError, load_declaration, parse_declaration
from auditor.labels.apple_json import write_fastlane
from auditor.labels.judge import judge
from auditor.labels.play_csv import write_play_csv

FLOWS = FIXTURES / "ai-chat-session.flows"
DATA = ROOT / "tests" / "data" / "labels"
HEADER = "Question ID (machine readable),Response ID (machine readable),Response value,Answer requirement,Human-friendly question label"
SENTRY = "o4504000000000000.ingest.sentry.io"

# The third parties of the session (fixtures/README.md): what each receives, from record.py.
#   #0, #8  mcs.volceapplog.com  (Volcengine applog, analytics): device_id/openudid, user_unique_id,
#           device model/OS/carrier, event names; #8 also a verbatim copy of the prompt (with the
#           user's phone and email in it) and the chat session id.
#   #3      events.statsigapi.net (Statsig, feature flags): userID, email, stableID, event names.
#   #9      www.google-analytics.com (GA4, analytics): cid, uid, page URL with the chat id,
#           screen size and language, event name page_view.
#   #12     o4504...ingest.sentry.io (Sentry, crash reporting): crash event with user.email,
#           user id, OS and device context.
#   #13     alog.umeng.com (Umeng, analytics): android_id, device model, OS version, carrier.
#   #10     copilot.microsoft.com (Microsoft Copilot, over a WebSocket opened from its own page,
#           Origin https://copilot.microsoft.com): the COPILOT_PROMPT with the user's phone, an
#           access token and a conversation id. The session's site is chat.deepseek.com, so this
#           other company's chat is a third party (the party rules of auditor 0.2.0).
# First party (the app's backends, the site the session opened): chat.deepseek.com (login
# email/password/device_id, the prompt with a phone number, the PNG upload #5), api.deepseek.com.

# By hand: with only email and other in-app messages declared (collected, not shared), these
# Play types must be reported undeclared, each with a host that shows it.
EXPECTED_UNDECLARED_PLAY: dict[str, set[str]] = {
    # user ids: Statsig userID, GA uid, Sentry user id, applog user_unique_id, the openai SDK's
    # user= on api.deepseek.com, the JWT's sub on chat.deepseek.com
    "PSL_USER_ACCOUNT": {"events.statsigapi.net", "www.google-analytics.com", SENTRY, "mcs.volceapplog.com", "api.deepseek.com", "chat.deepseek.com"},
    "PSL_DEVICE_ID": {"mcs.volceapplog.com", "events.statsigapi.net", "www.google-analytics.com", "alog.umeng.com", "chat.deepseek.com"},
    "PSL_PERFORMANCE_DIAGNOSTICS": {"mcs.volceapplog.com", "www.google-analytics.com", SENTRY, "alog.umeng.com"},
    "PSL_USER_INTERACTION": {"mcs.volceapplog.com", "events.statsigapi.net", "www.google-analytics.com"},
    "PSL_PHONE": {"mcs.volceapplog.com", "chat.deepseek.com", "copilot.microsoft.com"},
    "PSL_FILES_AND_DOCS": {"chat.deepseek.com"},
    "PSL_CRASH_LOGS": {SENTRY},
}
# ...and these declared types were shared with third parties the declaration does not name.
EXPECTED_SHARED_UNDECLARED: dict[str, set[str]] = {
    "PSL_EMAIL": {"events.statsigapi.net", "mcs.volceapplog.com", SENTRY},
    "PSL_OTHER_MESSAGES": {"mcs.volceapplog.com", "copilot.microsoft.com"},
}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "auditor", *args], capture_output=True, text=True, timeout=180, check=False)


def one_line_error(p: subprocess.CompletedProcess[str]) -> str:
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in p.stderr, p.stderr
    return lines[0]


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    from auditor.audit.pipeline import audit_paths

    return audit_paths([FLOWS])


def items(labels: dict[str, Any], kind: str | None = None) -> list[dict[str, Any]]:
    out = [i for d in labels["declarations"] for i in d["items"]]
    return [i for i in out if kind is None or i["kind"] == kind]


@pytest.mark.e2e
def test_issue_declaration_fails_and_names_every_undeclared_type(tmp_path: Path) -> None:
    p = run("labels", str(FLOWS), "--declared", str(DATA / "play-email-messages.csv"), "-o", str(tmp_path / "r"), "-f", "json,md,html")
    assert p.returncode == 1, p.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    jsonschema.Draft202012Validator(json.loads(resources.files("auditor").joinpath("schema/audit-v1.schema.json").read_text())).validate(report)
    labels = report["labels"]
    assert labels["passed"] is False
    undeclared: dict[str, set[str]] = {}
    for i in items(labels, "undeclared"):
        undeclared.setdefault(i["type"], set()).update(e["host"] for e in i["evidence"])
    assert set(undeclared) == set(EXPECTED_UNDECLARED_PLAY)
    for t, hosts in EXPECTED_UNDECLARED_PLAY.items():
        assert hosts <= undeclared[t], (t, undeclared[t])
    # Shared without being declared: named with the companies that received them.
    for t, hosts in EXPECTED_SHARED_UNDECLARED.items():
        (item,) = [i for i in items(labels) if i["type"] == t]
        shared = [p for p in item["problems"] if p["kind"] == "review"]
        assert len(shared) == 1 and "declared not shared, but sent to" in shared[0]["text"], item["problems"]
        for h in hosts:
            assert h in shared[0]["text"]
        assert set(item["observed"]["shared_with"]) == hosts
        assert hosts <= {e["host"] for e in item["evidence"]}
    # Purposes inferred from the receivers: Analytics is not declared for email.
    email = next(i for i in items(labels) if i["type"] == "PSL_EMAIL")
    assert email["kind"] == "mismatched"
    assert any(p["kind"] == "mismatched" and p["text"].startswith("purpose not declared: Analytics") for p in email["problems"])
    # The evidence points at the requests: Sentry's crash report is request #12.
    crash = next(i for i in items(labels) if i["type"] == "PSL_CRASH_LOGS")
    assert [r["index"] for r in crash["evidence"][0]["requests"]] == [12]
    # The console names them too, and the other reports have the section.
    assert "UNDECLARED PSL_DEVICE_ID" in p.stdout and p.stdout.rstrip().endswith("result: FAILED: 8 undeclared, 2 mismatched")
    assert "Declared vs observed" in (tmp_path / "r.md").read_text()
    html = (tmp_path / "r.html").read_text()
    assert 'id="labels"' in html and "PSL_CRASH_LOGS" in html
    assert "jane.doe@example.org" not in html + p.stdout  # values stay masked


@pytest.mark.e2e
def test_truthful_play_declaration_passes(tmp_path: Path) -> None:
    p = run("labels", str(FLOWS), "--declared", str(DATA / "play-truthful.csv"))
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.rstrip().endswith("result: passed")
    assert "UNDECLARED" not in p.stdout and "MISMATCHED" not in p.stdout and "REVIEW" not in p.stdout


def test_truthful_declaration_with_a_shared_type_taken_out_is_caught(doc: dict[str, Any]) -> None:
    decl = load_declaration(DATA / "play-truthful.csv")
    decl.types["PSL_DEVICE_ID"].shared = False
    v = judge(decl, doc)
    (item,) = [i for i in v.items if i.type == "PSL_DEVICE_ID"]
    assert item.kind == "review"
    assert "Umeng" in item.problems[0].text and "unless each is your service provider" in item.problems[0].text
    del decl.types["PSL_PHOTOS"]
    v = judge(decl, doc)
    assert [i.type for i in v.items if i.kind == "undeclared"] == ["PSL_FILES_AND_DOCS"]


def test_either_messages_or_user_generated_content_satisfies_prompts(doc: dict[str, Any]) -> None:
    text = (DATA / "play-truthful.csv").read_text().replace("PSL_DATA_TYPES_EMAIL_AND_TEXT,PSL_OTHER_MESSAGES", "PSL_DATA_TYPES_APP_ACTIVITY,PSL_USER_GENERATED_CONTENT")
    text = text.replace(":PSL_OTHER_MESSAGES:", ":PSL_USER_GENERATED_CONTENT:")
    v = judge(parse_declaration(text.encode(), "ugc.csv"), doc)
    assert not v.failed
    assert next(i for i in v.items if "prompt" in i.categories).type == "PSL_USER_GENERATED_CONTENT"


@pytest.mark.e2e
def test_draft_read_back_equals_the_observed_practices(tmp_path: Path, doc: dict[str, Any]) -> None:
    src = DATA / "play-email-messages.csv"
    before = src.read_bytes()
    draft = tmp_path / "corrected.csv"
    p = run("labels", str(FLOWS), "--declared", str(src), "--draft", str(draft), "-q")
    assert p.returncode == 1 and draft.is_file(), p.stderr
    assert src.read_bytes() == before
    text = draft.read_text()
    rows = list(csv.reader(io.StringIO(text)))
    assert ",".join(rows[0]) == HEADER and len(rows) == 783 and all(len(r) == 5 for r in rows)
    for r in rows[1:]:
        if r[0].startswith(("PSL_DATA_TYPES_", "PSL_DATA_USAGE_RESPONSES:")):
            assert r[2] in ("true", "false", ""), r
            if r[3] in ("MULTIPLE_CHOICE", "SINGLE_CHOICE"):
                assert r[2] in ("true", ""), r
    back = load_declaration(draft)
    # The observed practices, by hand: every expected type, shared exactly where a third party got it.
    expected_types = set(EXPECTED_UNDECLARED_PLAY) | set(EXPECTED_SHARED_UNDECLARED)
    assert set(back.types) == expected_types
    only_first_party = {"PSL_FILES_AND_DOCS"}
    assert {t for t, d in back.types.items() if d.shared} == expected_types - only_first_party
    assert all(d.collected for d in back.types.values())
    assert "PSL_ANALYTICS" in back.types["PSL_EMAIL"].collection_purposes
    assert "PSL_ACCOUNT_MANAGEMENT" in back.types["PSL_EMAIL"].collection_purposes  # what was declared is kept
    assert "PSL_ANALYTICS" in back.types["PSL_EMAIL"].sharing_purposes
    v = judge(back, doc)
    assert [i.kind for i in v.items if i.kind != "consistent"] == []
    p = run("labels", str(FLOWS), "--declared", str(draft), "-q")
    assert p.returncode == 0, p.stdout


@pytest.mark.e2e
def test_draft_never_overwrites_its_input(tmp_path: Path) -> None:
    src = tmp_path / "labels.csv"
    src.write_bytes((DATA / "play-email-messages.csv").read_bytes())
    before = src.read_bytes()
    line = one_line_error(run("labels", str(FLOWS), "--declared", str(src), "--draft", str(src)))
    assert "would overwrite its input" in line
    assert src.read_bytes() == before


@pytest.mark.e2e
def test_one_draft_per_declaration(tmp_path: Path, doc: dict[str, Any]) -> None:
    out = tmp_path / "drafts"
    p = run(
        "labels", str(FLOWS), "--declared", str(DATA / "play-email-messages.csv"),
        "--declared", str(DATA / "PrivacyInfo.xcprivacy"), "--declared", str(DATA / "fastlane-not-collected.json"),
        "--draft", str(out), "-q",
    )
    assert p.returncode == 1, p.stderr
    names = sorted(x.name for x in out.iterdir())
    assert names == ["PrivacyInfo.draft.json", "fastlane-not-collected.draft.json", "play-email-messages.draft.csv"]
    fl = json.loads((out / "fastlane-not-collected.draft.json").read_text())
    # fastlane's own layout: sorted categories, sorted purposes and protections.
    assert [u["category"] for u in fl] == sorted(u["category"] for u in fl)
    expected_apple = {"EMAIL_ADDRESS", "PHONE_NUMBER", "USER_ID", "DEVICE_ID", "OTHER_USER_CONTENT", "PRODUCT_INTERACTION", "PERFORMANCE_DATA", "CRASH_DATA"}
    assert {u["category"] for u in fl} == expected_apple
    assert all(u["data_protections"] == ["DATA_LINKED_TO_YOU"] for u in fl)
    for name in names:
        assert not judge(load_declaration(out / name), doc).failed, name
    # The xcprivacy draft keeps SEARCH_HISTORY, declared but not seen in this run.
    assert "SEARCH_HISTORY" in {u["category"] for u in json.loads((out / "PrivacyInfo.draft.json").read_text())}


def test_play_csv_round_trip() -> None:
    first = load_declaration(DATA / "play-truthful.csv")
    text = write_play_csv(first)
    second = parse_declaration(text.encode(), "round-trip.csv")
    assert second.practices() == first.practices()
    assert write_play_csv(second) == text
    # Purposes, sharing and user control come back as written.
    e = second.types["PSL_EMAIL"]
    assert (e.collected, e.shared, e.collection_purposes, e.sharing_purposes) == (
        True, True, {"PSL_ACCOUNT_MANAGEMENT", "PSL_ANALYTICS"}, {"PSL_ANALYTICS"})
    assert second.types["PSL_PHOTOS"].shared is False


def test_play_csv_reads_upper_case_values_and_a_byte_order_mark() -> None:
    text = (DATA / "play-email-messages.csv").read_text().replace(",true,", ",TRUE,")
    d = parse_declaration(b"\xef\xbb\xbf" + text.encode(), "x.csv")
    assert set(d.types) == {"PSL_EMAIL", "PSL_OTHER_MESSAGES"}
    assert d.types["PSL_EMAIL"].collection_purposes == {"PSL_ACCOUNT_MANAGEMENT"}


def test_fastlane_json_and_data_not_collected(doc: dict[str, Any]) -> None:
    nothing = load_declaration(DATA / "fastlane-not-collected.json")
    assert (nothing.store, nothing.format, nothing.not_collected, nothing.types) == ("apple", "fastlane_json", True, {})
    assert write_fastlane(nothing) == (DATA / "fastlane-not-collected.json").read_text()
    v = judge(nothing, doc)
    assert v.failed and all(i.kind == "undeclared" for i in v.items)
    assert all(i.problems[0].text.startswith("declared: no data collected; ") for i in v.items)
    # An app whose captures show nothing personal passes with DATA_NOT_COLLECTED.
    quiet = judge(nothing, {"findings": [], "destinations": [{"host": "cdn.example", "party": "third", "category": "cdn", "exchanges": 3}]})
    assert not quiet.failed and quiet.items == []
    truthful = load_declaration(DATA / "fastlane-truthful.json")
    assert truthful.types["EMAIL_ADDRESS"].collection_purposes == {"ANALYTICS", "APP_FUNCTIONALITY"}
    assert truthful.types["EMAIL_ADDRESS"].linked is True
    assert not judge(truthful, doc).failed
    again = parse_declaration(write_fastlane(truthful).encode(), "again.json")
    assert again.practices() == truthful.practices()


def test_app_store_page_json(doc: dict[str, Any]) -> None:
    page = load_declaration(DATA / "app-store-page.json")
    assert page.format == "app_store_page"
    assert page.types["EMAIL_ADDRESS"].collection_purposes == {"APP_FUNCTIONALITY", "ANALYTICS"}
    assert page.types["DEVICE_ID"].linked is False and page.types["EMAIL_ADDRESS"].linked is True
    v = judge(page, doc)
    # The device id left with account ids and emails (#2, #3...), so "not linked" is wrong.
    (bad,) = [i for i in v.items if i.kind in ("undeclared", "mismatched")]
    assert bad.type == "DEVICE_ID" and bad.kind == "mismatched"
    assert "declared not linked to you" in bad.problems[0].text


def test_privacy_manifest_xml_and_binary_read_alike(tmp_path: Path, doc: dict[str, Any]) -> None:
    xml = load_declaration(DATA / "PrivacyInfo.xcprivacy")
    binary = tmp_path / "PrivacyInfo.xcprivacy"
    binary.write_bytes(plistlib.dumps(plistlib.loads((DATA / "PrivacyInfo.xcprivacy").read_bytes()), fmt=plistlib.FMT_BINARY))
    assert binary.read_bytes().startswith(b"bplist00")
    b = load_declaration(binary)
    assert (xml.format, b.format) == ("xcprivacy", "xcprivacy")
    assert xml.practices() == b.practices()
    assert set(xml.types) == {"EMAIL_ADDRESS", "OTHER_USER_CONTENT", "SEARCH_HISTORY"}
    assert (xml.tracking, xml.tracking_domains) == (False, [])
    v = judge(b, doc)
    kinds = {i.type: i.kind for i in v.items}
    assert kinds["EMAIL_ADDRESS"] == "mismatched"  # declared not linked; an email identifies
    assert kinds["SEARCH_HISTORY"] == "not_observed"
    assert kinds["USER_ID"] == "undeclared"


def _doc(dests: list[dict[str, Any]], findings: list[tuple[int, str, str]]) -> dict[str, Any]:
    return {
        "summary": {},
        "destinations": [{"exchanges": 1, "owner": {"name": d["host"].split(".")[-2].title(), "country": "US"}, **d} for d in dests],
        "findings": [
            {"flow": {"capture": 0, "index": i}, "host": h, "category": c, "request": {"method": "POST", "url": f"https://{h}/"}}
            for i, h, c in findings
        ],
    }


AD_DOC = _doc(
    [
        {"host": "api.app.example", "party": "first", "category": None},
        {"host": "ads.adnet.example", "party": "third", "category": "advertising"},
        {"host": "clients4.google.com", "party": "platform", "category": "platform"},
    ],
    [(0, "api.app.example", "email"), (1, "ads.adnet.example", "advertising_id"), (1, "ads.adnet.example", "usage_event"),
     (2, "clients4.google.com", "device_id")],
)


def test_advertising_is_a_mismatch_not_a_review_and_platform_traffic_is_left_out() -> None:
    text = "\n".join([
        HEADER,
        "PSL_DATA_TYPES_PERSONAL,PSL_EMAIL,true,MULTIPLE_CHOICE,",
        "PSL_DATA_TYPES_IDENTIFIERS,PSL_DEVICE_ID,true,MULTIPLE_CHOICE,",
        "PSL_DATA_TYPES_APP_ACTIVITY,PSL_USER_INTERACTION,true,MULTIPLE_CHOICE,",
        "PSL_DATA_USAGE_RESPONSES:PSL_DEVICE_ID:DATA_USAGE_COLLECTION_PURPOSE,PSL_ADVERTISING,true,MULTIPLE_CHOICE,",
        "PSL_DATA_USAGE_RESPONSES:PSL_USER_INTERACTION:DATA_USAGE_COLLECTION_PURPOSE,PSL_ADVERTISING,true,MULTIPLE_CHOICE,",
    ])
    v = judge(parse_declaration(text.encode(), "ads.csv"), AD_DOC)
    kinds = {i.type: i for i in v.items}
    dev = kinds["PSL_DEVICE_ID"]
    assert dev.kind == "mismatched" and "not service providers" in dev.problems[0].text
    # The platform's own device id traffic (party platform) is neither collected nor shared.
    assert {e.host for e in dev.observation.receivers.values()} == {"ads.adnet.example"}  # type: ignore[union-attr]
    assert kinds["PSL_EMAIL"].kind == "consistent"


def test_apple_tracking_and_tracking_domains() -> None:
    manifest = plistlib.dumps({
        "NSPrivacyTracking": False,
        "NSPrivacyTrackingDomains": ["metrics.other.example"],
        "NSPrivacyCollectedDataTypes": [
            {"NSPrivacyCollectedDataType": "NSPrivacyCollectedDataTypeDeviceID", "NSPrivacyCollectedDataTypeLinked": False,
             "NSPrivacyCollectedDataTypeTracking": False, "NSPrivacyCollectedDataTypePurposes": ["NSPrivacyCollectedDataTypePurposeThirdPartyAdvertising"]},
        ],
    })
    v = judge(parse_declaration(manifest, "PrivacyInfo.xcprivacy"), AD_DOC)
    by_type = {i.type: i for i in v.items}
    assert "declared not used to track you" in " ".join(p.text for p in by_type["DEVICE_ID"].problems)
    assert by_type["NSPrivacyTracking"].kind == "mismatched"
    assert "ads.adnet.example" in by_type["NSPrivacyTrackingDomains"].problems[0].text
    covered = manifest.replace(b"metrics.other.example", b"adnet.example")
    v = judge(parse_declaration(covered, "PrivacyInfo.xcprivacy"), AD_DOC)
    assert "NSPrivacyTrackingDomains" not in {i.type for i in v.items}


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("wrong-header.csv", b"Question,Response,Value\nPSL_DATA_TYPES_PERSONAL,PSL_EMAIL,true\n", "wrong-header.csv:1: not a Play data safety CSV"),
        ("unknown-type.csv", (HEADER + "\nPSL_DATA_TYPES_PERSONAL,PSL_NAME,true,MULTIPLE_CHOICE,\nPSL_DATA_TYPES_PERSONAL,PSL_EMAIL_ADDRESS,true,MULTIPLE_CHOICE,\n").encode(),
         "unknown-type.csv:3: unknown data type 'PSL_EMAIL_ADDRESS'"),
        ("wrong-group.csv", (HEADER + "\nPSL_DATA_TYPES_LOCATION,PSL_EMAIL,true,MULTIPLE_CHOICE,\n").encode(), "wrong-group.csv:2: unknown data type 'PSL_EMAIL' in group"),
        ("unknown-purpose.csv", (HEADER + "\n\nPSL_DATA_USAGE_RESPONSES:PSL_EMAIL:DATA_USAGE_COLLECTION_PURPOSE,PSL_TRACKING,true,MULTIPLE_CHOICE,\n").encode(),
         "unknown-purpose.csv:3: unknown response id 'PSL_TRACKING'"),
        ("unknown-question.csv", (HEADER + "\nPSL_SOMETHING_NEW,,true,REQUIRED,\n").encode(), "unknown-question.csv:2: unknown question id 'PSL_SOMETHING_NEW'"),
        ("bad-value.csv", (HEADER + "\nPSL_DATA_TYPES_PERSONAL,PSL_EMAIL,yes,MULTIPLE_CHOICE,\n").encode(), "bad-value.csv:2: response value 'yes'"),
        ("columns.csv", (HEADER + "\nPSL_DATA_TYPES_PERSONAL,PSL_EMAIL,true\n").encode(), "columns.csv:2: expected 5 columns, got 3"),
        ("fastlane.json", b'[\n  {"category": "EMAIL_ADDRESS", "purposes": ["ANALYTICS"], "data_protections": ["DATA_LINKED_TO_YOU"]},\n  {"category": "EMAIL", "purposes": [], "data_protections": []}\n]\n',
         "fastlane.json:3: usage [1]: unknown category 'EMAIL'"),
        ("fastlane-purpose.json", b'[\n {"category": "NAME",\n  "purposes": ["MARKETING"], "data_protections": []}]', "fastlane-purpose.json:3: usage [0]: unknown purpose 'MARKETING'"),
        ("broken.json", b'[\n  {"category": "NAME",\n  "purposes": [}\n]', "broken.json:3: invalid JSON"),
        ("page.json", b'{"privacyDetails": {"privacyTypes": [\n {"identifier": "DATA_USED_TO_TRACK_YOU",\n  "dataCategories": [{"dataTypes": ["Shoe Size"]}]}]}}',
         "page.json:3: unknown data type 'Shoe Size'"),
        ("Bad.xcprivacy", b'<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0">\n<dict>\n<key>NSPrivacyTracking</key>\n<false>\n</dict>\n</plist>\n',
         "Bad.xcprivacy:6: malformed property list"),
        ("Unknown.xcprivacy", plistlib.dumps({"NSPrivacyCollectedDataTypes": [{"NSPrivacyCollectedDataType": "NSPrivacyCollectedDataTypeShoeSize"}]}),
         "Unknown.xcprivacy:9: unknown data type 'NSPrivacyCollectedDataTypeShoeSize'"),
        ("Truncated.xcprivacy", plistlib.dumps({"NSPrivacyTracking": True}, fmt=plistlib.FMT_BINARY)[:-12],
         "Truncated.xcprivacy: malformed binary property list"),
        ("BinaryUnknown.xcprivacy", plistlib.dumps({"NSPrivacyCollectedDataTypes": [{"NSPrivacyCollectedDataType": "NSPrivacyCollectedDataTypeShoeSize"}]}, fmt=plistlib.FMT_BINARY),
         "BinaryUnknown.xcprivacy: NSPrivacyCollectedDataTypes[0]: unknown data type 'NSPrivacyCollectedDataTypeShoeSize'"),
    ],
)
def test_bad_input_gives_one_line_naming_file_and_line(tmp_path: Path, name: str, content: bytes, expected: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(LabelsError) as e:
        load_declaration(path)
    assert str(e.value).startswith(str(tmp_path / expected)), str(e.value)
    assert "\n" not in str(e.value)


@pytest.mark.e2e
def test_bad_input_through_the_command_line(tmp_path: Path) -> None:
    bad = tmp_path / "labels.csv"
    bad.write_text("Question,Response\n")
    line = one_line_error(run("labels", str(FLOWS), "--declared", str(bad)))
    assert line == f"auditor: error: {bad}:1: not a Play data safety CSV: the header must be exactly {HEADER!r}, got 'Question,Response'"
    assert "no such file" in one_line_error(run("labels", str(FLOWS), "--declared", str(tmp_path / "missing.csv")))
    assert "nothing to check" in one_line_error(run("check", str(FLOWS)))


@pytest.mark.e2e
def test_check_declared_adds_the_labels_rule_and_junit_cases(tmp_path: Path) -> None:
    junit = tmp_path / "j.xml"
    p = run("check", str(FLOWS), "--declared", str(DATA / "PrivacyInfo.xcprivacy"), "--junit", str(junit), "--markdown", str(tmp_path / "s.md"), "--json", str(tmp_path / "a.json"))
    assert p.returncode == 1, p.stderr
    # By hand: phone, user id, device id, two kinds of product interaction (events, chat ids),
    # performance data and crash data are undeclared; the email is declared not linked, and other
    # user content (the prompt) reached Volcengine's analytics without the Analytics purpose.
    assert "FAIL labels [error] declared vs observed store labels: 7 undeclared, 2 mismatched" in p.stdout
    assert p.stdout.rstrip().endswith("result: FAILED: store labels: 7 undeclared, 2 mismatched")
    root = check_junit_shape(junit.read_text())
    cases = root.findall(".//testcase")
    labels = [c for c in cases if c.get("classname") == "auditor.labels.apple"]
    failed = [c.get("name") for c in labels if c.find("failure") is not None]
    skipped = [c.get("name") for c in labels if c.find("skipped") is not None]
    assert len(failed) == 9 and any(n.startswith("labels: EMAIL_ADDRESS [email]") for n in failed)
    assert skipped == [f"labels: SEARCH_HISTORY ({DATA / 'PrivacyInfo.xcprivacy'})"]
    suite = root.find("testsuite")
    assert suite is not None and (suite.get("failures"), suite.get("skipped")) == ("9", "1")
    assert "Declared vs observed" in (tmp_path / "s.md").read_text()
    assert json.loads((tmp_path / "a.json").read_text())["labels"]["summary"]["undeclared"] == 7


@pytest.mark.e2e
def test_policy_labels_warn_and_undeclared_selector(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nlabels: warn\nrules: []\n")
    p = run("check", str(FLOWS), "--policy", str(policy), "--declared", str(DATA / "play-email-messages.csv"))
    assert p.returncode == 0, p.stdout + p.stderr
    assert "WARN labels [warning] declared vs observed store labels: 8 undeclared, 2 mismatched" in p.stdout
    policy.write_text("version: 1\nlabels: warn\nrules:\n  - id: undeclared-to-cn\n    deny: {undeclared: true, countries: [CN]}\n")
    p = run("check", str(FLOWS), "--policy", str(policy), "--declared", str(DATA / "play-email-messages.csv"))
    assert p.returncode == 1, p.stdout
    hosts = {ln.split(":")[0].strip(" -") for ln in p.stdout.splitlines() if ln.startswith("  - ")}
    # Undeclared data to Chinese owners: Volcengine, Umeng, and DeepSeek's own backends (device id
    # and phone on chat.deepseek.com, the openai SDK's user= on api.deepseek.com).
    assert hosts == {"mcs.volceapplog.com", "alog.umeng.com", "chat.deepseek.com", "api.deepseek.com"}
    p = run("check", str(FLOWS), "--policy", str(policy), "--declared", str(DATA / "play-truthful.csv"))
    assert p.returncode == 0, p.stdout
    line = one_line_error(run("check", str(FLOWS), "--policy", str(policy)))
    assert "rule 'undeclared-to-cn' selects undeclared data, which needs --declared FILE" in line
    policy.write_text("version: 1\nlabels: loud\nrules: []\n")
    assert f"{policy}:2: labels: unknown severity 'loud'" in one_line_error(run("check", str(FLOWS), "--policy", str(policy)))


def test_html_section_escapes_what_it_shows(tmp_path: Path, doc: dict[str, Any]) -> None:
    from auditor.labels.judge import judge_all
    from auditor.renderers import render

    src = tmp_path / "<img src=x onerror=alert(1)>.csv"
    src.write_bytes((DATA / "play-email-messages.csv").read_bytes())
    d = dict(doc)
    d["labels"] = judge_all([load_declaration(src)], doc).to_json()
    html = render(d, "html")
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;.csv" in html
    root = ET.fromstring(html.split("<section id=\"labels\"", 1)[1].split("</section>", 1)[0].join(["<section ", "</section>"]).replace("<br>", "<br/>"))
    assert root.find("h2") is not None


def test_damaged_declarations_give_one_line_never_a_traceback() -> None:
    """Mutations of every example (bytes flipped, cut, CSV/JSON/XML punctuation inserted)."""
    import random

    samples = [p.read_bytes() for p in sorted(DATA.iterdir())]
    samples.append(plistlib.dumps(plistlib.loads((DATA / "PrivacyInfo.xcprivacy").read_bytes()), fmt=plistlib.FMT_BINARY))
    rnd = random.Random(15)
    for _ in range(3000):
        b = bytearray(rnd.choice(samples))
        for _ in range(rnd.randint(1, 6)):
            i = rnd.randrange(len(b)) if b else 0
            op = rnd.random()
            if op < 0.4 and b:
                b[i] = rnd.randrange(256)
            elif op < 0.7 and b:
                del b[i : i + rnd.randint(1, 20)]
            else:
                b[i:i] = rnd.choice([b'"', b",", b"\n", b"<", b"{", b"[", b"]", b"}", b"\x00", b"true", b"PSL_", b"UTF-9"])
        try:
            parse_declaration(bytes(b), "damaged")
        except LabelsError as e:
            assert str(e).startswith("damaged") and "\n" not in str(e)


def test_findings_spooled_to_disk_are_judged_alike(monkeypatch: pytest.MonkeyPatch, doc: dict[str, Any]) -> None:
    from auditor.audit.pipeline import audit_paths
    from auditor.audit.spool import RecordSpool

    monkeypatch.setattr(RecordSpool, "memory_limit", 5)
    spooled = audit_paths([FLOWS], stream=True)
    assert isinstance(spooled["findings"], RecordSpool)
    decl = load_declaration(DATA / "play-email-messages.csv")
    assert judge(decl, spooled).to_json() == judge(decl, doc).to_json()
