"""Measure the classifiers on a labeled corpus.

A corpus is a directory with ``corpus.har`` (the traffic) and ``labels.json`` (for each
exchange, by its index, the personal data it holds: ``category``, ``part``, ``path``), and
optionally ``known.yaml`` (the test accounts' identity, used as ``auditor report --known``). The
corpus is run through the same pipeline as ``auditor report`` (walk, classify, cross-flow
tracing) and compared unit by unit, a unit being ``(exchange, category, part, path)``: a
finding with a labeled unit is a true positive, one without is a false positive, a label with
no finding is a false negative. Several values of one category in one field count once.
Exchanges may name a ``batch`` (such as a held-out part written after the detectors were
frozen) and a ``group`` (such as the SDK that sent them); each batch and each group is also
scored on its own. A label with ``"optional": true`` is acceptable either way: found, it is
not a false positive; missed, it is not a false negative. Instead of ``corpus.har``,
``labels.json`` may list ``captures`` (paths relative to the corpus, any format auditor reads):
each is audited on its own, as a separate session, and exchanges are numbered across them in
order.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditor.audit.pipeline import AuditOptions, Auditor
from auditor.classifiers.known import KnownError, KnownValue, load_known
from auditor.errors import AuditorError
from auditor.io.capture import CaptureError, open_capture

Unit = tuple[int, str, str, str]  # exchange index, category, part, path


class CorpusError(AuditorError, ValueError):
    """The corpus cannot be read (message is one line)."""


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Evaluation:
    corpus: str
    exchanges: int
    labels: int
    per_category: dict[str, Score]
    overall: Score
    false_positives: list[tuple[Unit, str, str]] = field(default_factory=list)  # unit, detector, value
    false_negatives: list[tuple[Unit, str]] = field(default_factory=list)  # unit, value
    batches: dict[str, Score] = field(default_factory=dict)
    groups: dict[str, Score] = field(default_factory=dict)
    optional: int = 0  # labels acceptable either way (not counted in ``labels``)

    @property
    def macro_f1(self) -> float:
        scores = [s.f1 for s in self.per_category.values() if s.tp + s.fn]
        return sum(scores) / len(scores) if scores else 0.0

    def to_dict(self, errors: bool = False) -> dict[str, Any]:
        def score(s: Score) -> dict[str, Any]:
            return {
                "precision": round(s.precision, 4),
                "recall": round(s.recall, 4),
                "f1": round(s.f1, 4),
                "tp": s.tp,
                "fp": s.fp,
                "fn": s.fn,
            }

        out: dict[str, Any] = {
            "corpus": self.corpus,
            "exchanges": self.exchanges,
            "labels": self.labels,
            "categories": {c: score(s) for c, s in self.per_category.items()},
            "overall": score(self.overall),
            "macro_f1": round(self.macro_f1, 4),
            "batches": {b: score(s) for b, s in self.batches.items()},
        }
        if self.groups:
            out["groups"] = {g: score(s) for g, s in self.groups.items()}
        if self.optional:
            out["optional_labels"] = self.optional
        if errors:
            out["false_positives"] = [
                {"index": u[0], "category": u[1], "part": u[2], "path": u[3], "detector": d, "value": v}
                for u, d, v in self.false_positives
            ]
            out["false_negatives"] = [
                {"index": u[0], "category": u[1], "part": u[2], "path": u[3], "value": v}
                for u, v in self.false_negatives
            ]
        return out


@dataclass
class Labels:
    """What ``labels.json`` says: labeled units (unit -> value), the exchange count, each
    exchange's batch and group, the units acceptable either way, and the captures to read."""

    units: dict[Unit, str]
    exchanges: int
    batches: dict[int, str] = field(default_factory=dict)
    groups: dict[int, str] = field(default_factory=dict)
    optional: dict[Unit, str] = field(default_factory=dict)
    captures: list[str] = field(default_factory=list)


def read_labels(path: Path) -> Labels:
    """Read ``labels.json``. Raises :class:`CorpusError`."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CorpusError(f"{path}: no such file") from None
    except (OSError, ValueError) as e:
        raise CorpusError(f"{path}: cannot read labels: {e}") from None
    out = Labels({}, 0)
    try:
        for ex in doc["exchanges"]:
            index = int(ex["index"])
            if "batch" in ex:
                out.batches[index] = str(ex["batch"])
            if "group" in ex:
                out.groups[index] = str(ex["group"])
            for lab in ex["labels"]:
                unit = (index, lab["category"], lab["part"], lab["path"])
                target = out.optional if lab.get("optional") is True else out.units
                target.setdefault(unit, str(lab.get("value", "")))
        out.exchanges = len(doc["exchanges"])
        out.captures = [str(c) for c in doc.get("captures") or ()]
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise CorpusError(f"{path}: malformed labels ({e})") from None
    for unit in out.units.keys() & out.optional.keys():
        del out.optional[unit]  # a unit labeled both ways is required
    return out


def load_labels(path: Path) -> tuple[dict[Unit, str], int, dict[int, str]]:
    """The labeled units of ``labels.json`` (unit -> value), the number of exchanges it covers,
    and the batch of each exchange that names one."""
    labels = read_labels(path)
    return labels.units, labels.exchanges, labels.batches


def predict(
    har: Path, known: list[KnownValue] | None = None, offset: int = 0
) -> tuple[dict[Unit, tuple[str, str]], int]:
    """Run the pipeline on a capture: predicted unit -> (detector, value), and the exchange count.
    Exchange indexes start at ``offset``."""
    auditor = Auditor(AuditOptions(known=tuple(known or ())))
    predicted: dict[Unit, tuple[str, str]] = {}
    count = 0
    try:
        cap = open_capture(har)
        for ex in cap.exchanges:
            count += 1
            for f in auditor.add_exchange(ex):
                predicted.setdefault((offset + ex.index, f.category, f.part, f.path), (f.detector, f.value))
    except CaptureError as e:
        raise CorpusError(str(e)) from None
    return predicted, count


def evaluate_corpus(corpus: str | Path) -> Evaluation:
    """Score the classifiers on a corpus directory. Raises :class:`CorpusError`."""
    root = Path(corpus)
    if not root.is_dir():
        raise CorpusError(f"{root}: not a corpus directory (expected corpus.har and labels.json in it)")
    labels = read_labels(root / "labels.json")
    captures = [root / c for c in labels.captures] or [root / "corpus.har"]
    for har in captures:
        if not har.is_file():
            raise CorpusError(f"{har}: no such file")
    known: list[KnownValue] = []
    if (root / "known.yaml").is_file():
        try:
            known = load_known(root / "known.yaml")
        except KnownError as e:
            raise CorpusError(str(e)) from None
    predicted: dict[Unit, tuple[str, str]] = {}
    count = 0
    for har in captures:  # each capture is its own session
        found, n = predict(har, known, offset=count)
        predicted.update(found)
        count += n
    if count != labels.exchanges:
        held = "corpus.har holds" if not labels.captures else f"its {len(captures)} captures hold"
        raise CorpusError(f"{root}: labels.json covers {labels.exchanges} exchanges but {held} {count}")
    return score(str(root), count, labels.units, predicted, labels.batches, labels.groups, labels.optional)


def score(
    name: str,
    exchanges: int,
    gold: dict[Unit, str],
    predicted: dict[Unit, tuple[str, str]],
    batches: dict[int, str] | None = None,
    groups: dict[int, str] | None = None,
    optional: dict[Unit, str] | None = None,
) -> Evaluation:
    """Compare predicted units with labeled units (overall, per category, per batch and per
    group). Units in ``optional`` count neither way."""
    partitions = [
        (batches or {}, {b: Score() for b in sorted(set((batches or {}).values()))}),
        (groups or {}, {g: Score() for g in sorted(set((groups or {}).values()))}),
    ]
    optional = optional or {}
    per: dict[str, Score] = {}
    cats = sorted({u[1] for u in gold} | {u[1] for u in predicted if u not in optional})
    for c in cats:
        per[c] = Score()
    fps, fns = [], []

    def count(u: Unit, outcome: str) -> None:
        for s in (per[u[1]], *(scores.get(of.get(u[0], "")) for of, scores in partitions)):
            if s is not None:
                setattr(s, outcome, getattr(s, outcome) + 1)

    for u, (det, value) in predicted.items():
        if u in gold:
            count(u, "tp")
        elif u not in optional:
            count(u, "fp")
            fps.append((u, det, value))
    for u, value in gold.items():
        if u not in predicted:
            count(u, "fn")
            fns.append((u, value))
    overall = Score(sum(s.tp for s in per.values()), sum(s.fp for s in per.values()), sum(s.fn for s in per.values()))
    return Evaluation(
        name,
        exchanges,
        len(gold),
        per,
        overall,
        sorted(fps),
        sorted(fns),
        partitions[0][1],
        partitions[1][1],
        len(optional),
    )


def format_report(ev: Evaluation, errors: bool = False) -> str:
    """A plain-text table of the evaluation (and, with ``errors``, every miss and false alarm)."""
    either = f", {ev.optional} acceptable either way" if ev.optional else ""
    lines = [
        f"corpus: {ev.corpus} ({ev.exchanges} exchanges, {ev.labels} labeled units{either})",
        "",
        f"{'category':<20}{'precision':>10}{'recall':>8}{'F1':>8}{'TP':>6}{'FP':>5}{'FN':>5}",
    ]
    for c, s in ev.per_category.items():
        lines.append(f"{c:<20}{s.precision:>10.3f}{s.recall:>8.3f}{s.f1:>8.3f}{s.tp:>6}{s.fp:>5}{s.fn:>5}")
    o = ev.overall
    lines.append(f"{'overall (micro)':<20}{o.precision:>10.3f}{o.recall:>8.3f}{o.f1:>8.3f}{o.tp:>6}{o.fp:>5}{o.fn:>5}")
    lines.append(f"{'macro F1':<20}{'':>18}{ev.macro_f1:>8.3f}")
    if ev.batches:
        lines.append("")
        for b, s in ev.batches.items():
            lines.append(
                f"{'batch ' + b:<20}{s.precision:>10.3f}{s.recall:>8.3f}{s.f1:>8.3f}{s.tp:>6}{s.fp:>5}{s.fn:>5}"
            )
    if ev.groups:
        lines.append("")
        for g, s in ev.groups.items():
            lines.append(
                f"{'group ' + g:<20}{s.precision:>10.3f}{s.recall:>8.3f}{s.f1:>8.3f}{s.tp:>6}{s.fp:>5}{s.fn:>5}"
            )
    if errors:
        lines += ["", "false positives:"]
        lines += [f"  #{u[0]} {u[1]} {u[2]} {u[3]} [{det}] {value[:60]!r}" for u, det, value in ev.false_positives] or [
            "  none"
        ]
        lines += ["", "false negatives:"]
        lines += [f"  #{u[0]} {u[1]} {u[2]} {u[3]} {value[:60]!r}" for u, value in ev.false_negatives] or ["  none"]
    return "\n".join(lines)
