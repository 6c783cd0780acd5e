"""The corpus recorded from real, unmodified SDKs (corpus/real): labels and scores.

Recording needs the package registries (``make corpus-real``); these tests only read what
was recorded and committed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from auditor.audit.evaluate import evaluate_corpus

REAL = ROOT / "corpus" / "real"
sys.path.insert(0, str(REAL))

import planted  # noqa: E402

PYTHON_SDKS = 12
BROWSER_SDKS = 8
AI_CHINA = {"zhipuai", "dashscope", "volcengine-ark", "qianfan"}


def _labels() -> dict:
    return json.loads((REAL / "labels.json").read_text(encoding="utf-8"))


@pytest.mark.e2e
def test_real_sdk_corpus_meets_the_targets() -> None:
    ev = evaluate_corpus(REAL)
    # every SDK; the browser's own background traffic (group "chromium") counts in the overall figure
    low = {g: round(s.f1, 3) for g, s in ev.groups.items() if s.f1 < 0.95 and g != "chromium"}
    misses = [f"#{u[0]} {u[1]} {u[3]}" for u, _v in ev.false_negatives] + [f"#{u[0]} {u[1]} {u[3]} [{d}]" for u, d, _v in ev.false_positives]
    assert low == {} and ev.overall.f1 >= 0.98, f"overall F1 {ev.overall.f1:.3f}; below 0.95: {low}; errors: {misses[:40]}"


@pytest.mark.e2e
def test_corpus_covers_the_sdks() -> None:
    doc = _labels()
    groups = {ex["group"] for ex in doc["exchanges"]}
    python = {g for g in groups if not g.startswith("browser-")} - {"chromium"}
    browser = {g for g in groups if g.startswith("browser-")}
    assert len(python) >= PYTHON_SDKS and len(python & AI_CHINA) >= 3
    assert {"openai", "anthropic", "posthog", "mixpanel", "segment", "amplitude", "sentry"} <= python
    assert len(browser) >= BROWSER_SDKS
    assert {f"browser-{s}" for s in ("posthog", "amplitude", "mixpanel", "segment", "sentry", "rrweb", "openai", "anthropic")} <= browser
    assert {Path(c).stem for c in doc["captures"]} == groups - {"chromium"}  # every capture has exchanges
    # Chromium's own background traffic is its own group, never an SDK's
    assert all(ex["group"] == "chromium" for ex in doc["exchanges"] if re.search(r"//(update\.googleapis|clients\d\.google)\.com/", ex["url"]))
    for capture in doc["captures"]:
        assert (REAL / capture).stat().st_size < 400_000, capture
    for sdk, prompt in planted.PROMPTS.items():  # each AI SDK's own prompt is labeled in its capture
        if sdk in groups:
            assert any(lab["category"] == "prompt" and lab["value"] == prompt for ex in doc["exchanges"] if ex["group"] == sdk for lab in ex["labels"]), sdk


def test_every_label_is_a_planted_value_or_a_rule() -> None:
    known = {v for values in planted.IDENTITY.values() for v in values} | set(planted.PROMPTS.values()) | set(planted.KEYS.values())
    for ex in _labels()["exchanges"]:
        for lab in ex["labels"]:
            if lab["source"] == "planted":
                assert lab["value"] in known or lab.get("optional"), lab
            else:
                assert lab["source"], lab


@pytest.mark.e2e
def test_the_labeler_is_independent_and_reproduces_the_labels(tmp_path: Path) -> None:
    for name in ("label.py", "rules.py", "planted.py"):
        text = (REAL / name).read_text(encoding="utf-8")
        assert re.search(r"^\s*(import|from)\s+auditor\b", text, re.M) is None, name
    shutil.copytree(REAL / "captures", tmp_path / "captures")
    p = subprocess.run([sys.executable, str(REAL / "label.py"), "--corpus", str(tmp_path)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "labels.json").read_text(encoding="utf-8") == (REAL / "labels.json").read_text(encoding="utf-8")


@pytest.mark.e2e
def test_per_sdk_figures_in_the_evaluate_command() -> None:
    p = subprocess.run([sys.executable, "-m", "auditor", "evaluate", str(REAL), "--json"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert set(doc["groups"]) == {ex["group"] for ex in _labels()["exchanges"]}
    assert sum(g["tp"] + g["fn"] for g in doc["groups"].values()) == doc["labels"]


def _label_one(tmp_path: Path, flow: object, group: str = "browser-posthog") -> list[tuple[str, str, str, bool]]:
    from mitmproxy import io

    path = tmp_path / f"{group}.flows"
    with path.open("wb") as fh:
        io.FlowWriter(fh).add(flow)  # type: ignore[arg-type]
    import label

    [ex] = label.label_capture(path, group)
    return [(lab["category"], lab["part"], lab["path"], lab.get("optional", False)) for lab in ex["labels"]]


def test_the_decoder_finds_planted_values_inside_encodings(tmp_path: Path) -> None:
    """Compressed bodies without a header, latin-1 gzip strings, base64, lz-string, envelopes."""
    import gzip
    import zlib

    from mitmproxy.test import tflow

    inner = gzip.compress(json.dumps([{"text": planted.PROMPTS["browser-chat"]}]).encode()).decode("latin-1")
    body = {"batch": [{"event": "$pageview", "properties": {"$set": {"email": planted.EMAIL}, "snap": inner,
                                                            "lz": "N4IgrgzgpgTiBcooFsCGBLANgkMD2EqAdANZSaawACUAHqsgA6VEDGeyIAvl0A=="}}]}
    f = tflow.tflow()
    f.request.host = "us.i.posthog.com"
    f.request.headers["content-type"] = "text/plain"
    f.request.content = gzip.compress(json.dumps(body).encode())  # no Content-Encoding
    got = _label_one(tmp_path, f)
    assert ("email", "request.body", '@gzip.batch[0].properties["$set"].email', False) in got
    assert ("prompt", "request.body", "@gzip.batch[0].properties.snap.@gzip[0].text", False) in got
    assert ("email", "request.body", "@gzip.batch[0].properties.lz.@lzstring.user.email", False) in got
    assert ("usage_event", "request.body", "@gzip.batch[0].event", False) in got  # the SDK's own event name, by rule

    recording = zlib.compress(json.dumps([{"data": {"text": planted.FULL_NAME}}]).encode()) + b"\n\n"
    f = tflow.tflow()
    f.request.content = b'{"event_id":"x"}\n{"type":"replay_recording"}\n{"segment_id":0}\n' + recording + b'{"type":"event"}\n{"user":{"id":"%s"}}\n' % planted.USER_ID.encode()
    got = _label_one(tmp_path, f, "browser-sentry")
    assert ("person_name", "request.body", "[3].@zlib[0].data.text", False) in got
    newlines = recording.count(b"\n") - 1  # the lines after the stream keep their numbers
    assert ("account_id", "request.body", f"[{5 + newlines}].user.id", False) in got
