"""Benchmark: auditor's classifiers against presidio-analyzer (regex-only), on the labeled corpus.

Both get the same values: every field the client sent in the corpus (``corpus/corpus.har``),
walked once by auditor's walkers. auditor classifies each exchange (detectors plus cross-flow
tracing, seeded with ``corpus/known.yaml`` as ``auditor evaluate`` does); Presidio's
``AnalyzerEngine.analyze`` runs on each value. Prints throughput (MB/s of sent values,
exchanges/s) and precision/recall/F1 of both against ``corpus/labels.json``: on the categories
Presidio has recognizers for, and over the whole taxonomy.

Presidio runs offline and without a spaCy model: ``spacy.blank("en")`` saved to a temporary
directory, ``SlimSpacyNlpEngine(auto_download=False)``, the predefined recognizers for English
minus ``SpacyRecognizer`` (so no PERSON, LOCATION or NRP). Its entity types are mapped to
auditor's categories (DATE_TIME counts as ``date_of_birth``, the only category it can stand
for; URL, CRYPTO and the like have no counterpart and are ignored).

    pip install -e '.[bench]'          # presidio-analyzer and spaCy (about 400 MB)
    python benchmarks/bench_classify.py [--corpus corpus] [--repeat 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")  # Presidio's URL recognizer: stay offline

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from auditor.audit.evaluate import Score, Unit, load_labels  # noqa: E402
from auditor.classifiers import SENT_PARTS, classify  # noqa: E402
from auditor.classifiers.known import load_known  # noqa: E402
from auditor.classifiers.tracing import Tracer  # noqa: E402
from auditor.extract import walk_exchange  # noqa: E402
from auditor.io.capture import open_capture  # noqa: E402
from auditor.models import Exchange, Field  # noqa: E402

PRESIDIO_TYPES = {
    "EMAIL_ADDRESS": "email",
    "PHONE_NUMBER": "phone",
    "CREDIT_CARD": "payment_card",
    "IBAN_CODE": "bank_account",
    "US_BANK_NUMBER": "bank_account",
    "IP_ADDRESS": "ip_address",
    "DATE_TIME": "date_of_birth",
    "PERSON": "person_name",
    "LOCATION": "coarse_location",
}
_GOV_SUFFIXES = ("SSN", "PASSPORT", "DRIVER_LICENSE", "ITIN", "NHS", "NINO", "NIF", "NIE", "NRIC", "FIN", "AADHAAR",
                 "PAN", "TFN", "MEDICARE", "VOTER", "CPF", "PESEL", "FISCAL_CODE", "IDENTITY_CARD", "ID_NUMBER", "NATIONAL_ID")


def presidio_category(entity: str) -> str | None:
    """auditor's category for a Presidio entity type, or None when there is none."""
    if entity in PRESIDIO_TYPES:
        return PRESIDIO_TYPES[entity]
    if "_" in entity and entity.endswith(_GOV_SUFFIXES):
        return "government_id"
    return None


def load(corpus: Path) -> list[tuple[Exchange, list[Field]]]:
    return [(ex, walk_exchange(ex)) for ex in open_capture(corpus / "corpus.har").exchanges]


def run_ours(walked: list[tuple[Exchange, list[Field]]], corpus: Path) -> tuple[dict[Unit, str], float]:
    known = load_known(corpus / "known.yaml") if (corpus / "known.yaml").is_file() else []
    tracer = Tracer()
    for k in known:
        tracer.add_known(k.category, k.value, k.key)
    start = time.perf_counter()
    units: dict[Unit, str] = {}
    for ex, fields in walked:
        for f in tracer.trace(ex, fields, classify(ex, fields)):
            units.setdefault((ex.index, f.category, f.part, f.path), f.detector)
    return units, time.perf_counter() - start


def presidio_engine() -> Any:
    import spacy
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import SlimSpacyNlpEngine

    model_dir = tempfile.mkdtemp(prefix="blank-en-")
    spacy.blank("en").to_disk(model_dir)
    nlp = SlimSpacyNlpEngine(models=[{"lang_code": "en", "model_name": model_dir}], auto_download=False)
    nlp.load()
    registry = RecognizerRegistry()
    registry.load_predefined_recognizers(languages=["en"], nlp_engine=nlp)
    if any(r.name == "SpacyRecognizer" for r in registry.recognizers):
        registry.remove_recognizer("SpacyRecognizer")
    return AnalyzerEngine(registry=registry, nlp_engine=nlp, supported_languages=["en"])


def run_presidio(walked: list[tuple[Exchange, list[Field]]], engine: Any) -> tuple[dict[Unit, str], float]:
    start = time.perf_counter()
    units: dict[Unit, str] = {}
    for ex, fields in walked:
        for f in fields:
            if f.part not in SENT_PARTS or f.kind != "value" or not f.value:
                continue
            for r in engine.analyze(text=f.value, language="en"):
                cat = presidio_category(r.entity_type)
                if cat is not None:
                    units.setdefault((ex.index, cat, f.part, f.path), r.entity_type)
    return units, time.perf_counter() - start


def score(gold: dict[Unit, str], predicted: dict[Unit, str], categories: set[str] | None) -> Score:
    g = {u for u in gold if categories is None or u[1] in categories}
    p = {u for u in predicted if categories is None or u[1] in categories}
    return Score(len(g & p), len(p - g), len(g - p))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    ap.add_argument("--repeat", type=int, default=5, help="runs of auditor's classifiers; the best time counts")
    ap.add_argument("--json", action="store_true", help="print JSON")
    args = ap.parse_args()
    gold, _count, _batches = load_labels(args.corpus / "labels.json")
    walked = load(args.corpus)
    size = sum(len(f.value.encode("utf-8", "surrogatepass")) for _, fs in walked for f in fs if f.part in SENT_PARTS and f.kind == "value")
    n = len(walked)
    ours, ours_time = run_ours(walked, args.corpus)
    for _ in range(args.repeat - 1):
        ours_time = min(ours_time, run_ours(walked, args.corpus)[1])
    try:
        engine = presidio_engine()
    except ImportError:
        sys.exit("presidio-analyzer is not installed: pip install -e '.[bench]'")
    run_presidio(walked[:3], engine)  # warm-up (lazy loading of recognizers)
    theirs, theirs_time = run_presidio(walked, engine)
    covered = {"email", "phone", "payment_card", "bank_account", "government_id", "ip_address", "date_of_birth"}
    result = {
        "corpus": str(args.corpus),
        "exchanges": n,
        "sent_bytes": size,
        "covered_categories": sorted(covered),
        "auditor": {"seconds": ours_time, "mb_per_s": size / 1e6 / ours_time, "exchanges_per_s": n / ours_time},
        "presidio": {"seconds": theirs_time, "mb_per_s": size / 1e6 / theirs_time, "exchanges_per_s": n / theirs_time},
    }
    for name, pred in (("auditor", ours), ("presidio", theirs)):
        for scope, cats in (("covered", covered), ("all", None)):
            s = score(gold, pred, cats)
            result[name][f"f1_{scope}"] = s.f1
            result[name][f"precision_{scope}"] = s.precision
            result[name][f"recall_{scope}"] = s.recall
        result[name]["per_category"] = {c: round(score(gold, pred, {c}).f1, 3) for c in sorted(covered)}
    result["speedup"] = theirs_time / ours_time
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"corpus: {args.corpus} ({n} exchanges, {size / 1e6:.2f} MB of sent values, {len(gold)} labeled units)")
    print(f"{'':30}{'MB/s':>9}{'exch/s':>10}{'F1 covered':>12}{'P':>7}{'R':>7}{'F1 all':>9}")
    for name, label in (("auditor", "auditor (detectors + tracing)"), ("presidio", "presidio-analyzer (regex)")):
        r = result[name]
        print(f"{label:30}{r['mb_per_s']:9.2f}{r['exchanges_per_s']:10.1f}{r['f1_covered']:12.3f}{r['precision_covered']:7.3f}{r['recall_covered']:7.3f}{r['f1_all']:9.3f}")
    print(f"auditor is {result['speedup']:.0f}x faster; covered categories: {', '.join(sorted(covered))}")
    print("F1 per covered category (auditor / presidio):")
    for c in sorted(covered):
        print(f"  {c:<16}{result['auditor']['per_category'][c]:7.3f} / {result['presidio']['per_category'][c]:.3f}")


if __name__ == "__main__":
    main()
