"""The labeled corpus and the evaluation command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from auditor.audit.evaluate import CorpusError, evaluate_corpus, format_report, score

CORPUS = ROOT / "corpus"


def test_score_counts_units_exactly() -> None:
    gold = {(0, "email", "request.body", "email"): "a@b.example", (1, "phone", "request.body", "tel"): "+1", (1, "prompt", "request.body", "p"): "hi"}
    predicted = {(0, "email", "request.body", "email"): ("email.regex", "a@b.example"), (1, "prompt", "request.body", "q"): ("prompt.key_name", "hi")}
    ev = score("x", 2, gold, predicted, {0: "a", 1: "b"})
    assert {c: (s.tp, s.fp, s.fn) for c, s in ev.per_category.items()} == {"email": (1, 0, 0), "phone": (0, 0, 1), "prompt": (0, 1, 1)}
    assert (ev.overall.tp, ev.overall.fp, ev.overall.fn) == (1, 1, 2)
    assert round(ev.overall.precision, 3) == 0.5 and round(ev.overall.recall, 3) == 0.333 and round(ev.overall.f1, 3) == 0.4
    assert {b: (s.tp, s.fp, s.fn) for b, s in ev.batches.items()} == {"a": (1, 0, 0), "b": (0, 1, 2)}
    text = format_report(ev, errors=True)
    assert "overall (micro)" in text and "#1 prompt request.body q [prompt.key_name] 'hi'" in text and "#1 phone request.body tel '+1'" in text


def test_groups_and_labels_acceptable_either_way() -> None:
    gold = {(0, "email", "request.body", "email"): "a@b.example", (2, "phone", "request.body", "tel"): "+1"}
    optional = {(0, "device_info", "request.header", "x-os"): "Linux", (1, "device_id", "request.body", "id"): "x1"}
    predicted = {
        (0, "email", "request.body", "email"): ("email.regex", "a@b.example"),
        (0, "device_info", "request.header", "x-os"): ("device_info.key", "Linux"),  # optional, found: not counted
        (2, "prompt", "request.body", "q"): ("prompt.key_name", "hi"),  # a false positive of group b
    }  # the optional device_id of exchange 1 is missed: not counted either
    ev = score("x", 3, gold, predicted, groups={0: "a", 1: "a", 2: "b"}, optional=optional)
    assert {g: (s.tp, s.fp, s.fn) for g, s in ev.groups.items()} == {"a": (1, 0, 0), "b": (0, 1, 1)}
    assert (ev.overall.tp, ev.overall.fp, ev.overall.fn) == (1, 1, 1) and "device_info" not in ev.per_category
    assert ev.optional == 2 and ev.to_dict()["optional_labels"] == 2
    assert ev.to_dict()["groups"]["a"]["f1"] == 1.0
    text = format_report(ev)
    assert "2 acceptable either way" in text and "group b" in text


def test_labels_read_groups_optional_and_captures(tmp_path: Path) -> None:
    from auditor.audit.evaluate import read_labels

    doc = {"captures": ["a.flows"], "exchanges": [
        {"index": 0, "group": "sdk", "labels": [
            {"category": "email", "part": "request.body", "path": "e", "value": "a@b.example"},
            {"category": "device_info", "part": "request.header", "path": "x-os", "value": "Linux", "optional": True},
            {"category": "email", "part": "request.body", "path": "e", "value": "a@b.example", "optional": True},
        ]}]}
    (tmp_path / "labels.json").write_text(json.dumps(doc), encoding="utf-8")
    labels = read_labels(tmp_path / "labels.json")
    assert labels.captures == ["a.flows"] and labels.groups == {0: "sdk"}
    assert list(labels.units) == [(0, "email", "request.body", "e")]  # labeled both ways: required
    assert list(labels.optional) == [(0, "device_info", "request.header", "x-os")]
    with pytest.raises(CorpusError, match=r"a.flows: no such file"):
        evaluate_corpus(tmp_path)


@pytest.mark.e2e
def test_generator_reproduces_the_checked_in_corpus(tmp_path: Path) -> None:
    p = subprocess.run([sys.executable, str(CORPUS / "generate.py"), "--out", str(tmp_path)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    for name in ("corpus.har", "labels.json", "known.yaml"):
        assert (tmp_path / name).read_bytes() == (CORPUS / name).read_bytes(), name


def test_corpus_size_and_labels_are_planted_values() -> None:
    labels = json.loads((CORPUS / "labels.json").read_text(encoding="utf-8"))
    har = json.loads((CORPUS / "corpus.har").read_text(encoding="utf-8"))
    assert len(har["log"]["entries"]) == len(labels["exchanges"]) >= 150
    cats = {lab["category"] for ex in labels["exchanges"] for lab in ex["labels"]}
    taxonomy = json.loads((ROOT / "auditor" / "data" / "taxonomy.json").read_text(encoding="utf-8"))["categories"]
    assert cats == set(taxonomy)  # every category is represented
    assert sum(1 for ex in labels["exchanges"] if not ex["labels"]) >= 10  # exchanges holding decoys only


def test_classifiers_meet_the_targets_on_the_corpus() -> None:
    ev = evaluate_corpus(CORPUS)
    assert ev.exchanges >= 150
    assert ev.overall.f1 >= 0.95
    low = {c: round(s.f1, 3) for c, s in ev.per_category.items() if s.f1 < 0.85}
    assert low == {}


@pytest.mark.e2e
def test_evaluate_command(tmp_path: Path) -> None:
    p = subprocess.run([sys.executable, "-m", "auditor", "evaluate", str(CORPUS)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith(f"corpus: {CORPUS} (") and "overall (micro)" in p.stdout and "batch holdout" in p.stdout
    p = subprocess.run([sys.executable, "-m", "auditor", "evaluate", str(CORPUS), "--json"], capture_output=True, text=True)
    doc = json.loads(p.stdout)
    assert set(doc) >= {"categories", "overall", "macro_f1", "batches"}
    p = subprocess.run([sys.executable, "-m", "auditor", "evaluate", str(tmp_path / "nope")], capture_output=True, text=True)
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "not a corpus directory" in p.stderr


def test_mismatched_labels_are_an_error(tmp_path: Path) -> None:
    (tmp_path / "corpus.har").write_bytes((CORPUS / "corpus.har").read_bytes())
    (tmp_path / "labels.json").write_text(json.dumps({"exchanges": [{"index": 0, "labels": []}]}), encoding="utf-8")
    with pytest.raises(CorpusError, match="covers 1 exchanges"):
        evaluate_corpus(tmp_path)
