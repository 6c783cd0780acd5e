"""Google Play's data safety form as Play Console exports and imports it: a CSV of five columns.

Rows are general questions (``PSL_DATA_COLLECTION_COLLECTS_PERSONAL_DATA``...), data-type rows
(``PSL_DATA_TYPES_PERSONAL,PSL_EMAIL,true``) and per-type rows
(``PSL_DATA_USAGE_RESPONSES:PSL_EMAIL:PSL_DATA_USAGE_COLLECTION_AND_SHARING,PSL_DATA_USAGE_ONLY_COLLECTED,true``).
Every id is checked against ``data/store_labels.json``; a mistake raises :class:`LabelsError`
naming the file and the line.
"""

from __future__ import annotations

import csv
import io
from functools import cache

from auditor.labels import mapping
from auditor.labels.model import Declaration, DeclaredType, LabelsError

USAGE_PREFIX = "PSL_DATA_USAGE_RESPONSES"
TYPES_PREFIX = "PSL_DATA_TYPES_"
COLLECTS = "PSL_DATA_COLLECTION_COLLECTS_PERSONAL_DATA"
ONLY_COLLECTED = "PSL_DATA_USAGE_ONLY_COLLECTED"
ONLY_SHARED = "PSL_DATA_USAGE_ONLY_SHARED"
CONTROL_OPTIONAL = "PSL_DATA_USAGE_USER_CONTROL_OPTIONAL"
CONTROL_REQUIRED = "PSL_DATA_USAGE_USER_CONTROL_REQUIRED"


def header() -> list[str]:
    return list(mapping.data()["play"]["header"])


@cache
def _general() -> dict[tuple[str, str], list[str]]:
    play = mapping.data()["play"]
    return {
        (q, r): [q, r, req, label] for q, r, req, label in play["general_questions"] + play["legacy_general_questions"]
    }


@cache
def _usage() -> dict[str, dict[str, object]]:
    return mapping.data()["play"]["usage_questions"]


def _responses(question: str) -> tuple[str, ...]:
    spec = _usage()[question]["responses"]
    return tuple(mapping.play_purposes()) if spec == "purposes" else tuple(spec)  # type: ignore[arg-type]


def _flag(value: str, name: str, line: int) -> bool | None:
    v = value.strip().lower()
    if v == "true":
        return True
    if v == "false":
        return False
    if v == "":
        return None
    raise LabelsError(f"{name}:{line}: response value {value!r} is not true, false or empty")


def parse_play_csv(text: str, name: str) -> Declaration:
    """Parse the text of a data safety CSV. Raises :class:`LabelsError`."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    decl = Declaration(path=name, store="play", format="play_csv")
    try:
        first = next(reader, None)
        if first is None:
            raise LabelsError(f"{name}:1: empty file (expected the Play data safety CSV header)")
        got = [c.strip() for c in first]
        if got != header():
            raise LabelsError(
                f"{name}:1: not a Play data safety CSV: the header must be exactly "
                f"{','.join(header())!r}, got {','.join(first)[:200]!r}"
            )
        selected: dict[str, int] = {}
        usage: dict[str, dict[str, object]] = {}
        collects: bool | None = None
        start = reader.line_num
        for row in reader:
            line = start + 1
            start = reader.line_num
            if not any(c.strip() for c in row):
                continue
            if len(row) != 5:
                raise LabelsError(f"{name}:{line}: expected 5 columns, got {len(row)}")
            qid, rid, value = row[0].strip(), row[1].strip(), row[2]
            decl.rows.append((line, list(row)))
            if (qid, rid) in _general():
                if qid == COLLECTS:
                    collects = _flag(value, name, line)
                continue
            if qid.startswith(TYPES_PREFIX):
                t = mapping.play_types().get(rid)
                if t is None or t["group"] != qid:
                    what = (
                        f"data type {rid!r}"
                        if t is None
                        else f"data type {rid!r} in group {qid!r} (it is in {t['group']})"
                    )
                    raise LabelsError(f"{name}:{line}: unknown {what}")
                if _flag(value, name, line):
                    selected.setdefault(rid, line)
                continue
            if qid.startswith(USAGE_PREFIX + ":"):
                parts = qid.split(":")
                if len(parts) != 3:
                    raise LabelsError(
                        f"{name}:{line}: malformed question id {qid!r} (expected {USAGE_PREFIX}:<TYPE>:<QUESTION>)"
                    )
                _, type_id, question = parts
                if type_id not in mapping.play_types():
                    raise LabelsError(f"{name}:{line}: unknown data type {type_id!r} in {qid!r}")
                if question not in _usage():
                    raise LabelsError(f"{name}:{line}: unknown question {question!r} in {qid!r}")
                if rid not in _responses(question):
                    raise LabelsError(f"{name}:{line}: unknown response id {rid!r} for {question}")
                flag = _flag(value, name, line)
                answers = usage.setdefault(type_id, {"line": line})
                if flag is not None:
                    answers[f"{question}|{rid}"] = flag
                continue
            raise LabelsError(f"{name}:{line}: unknown question id {qid!r}")
    except csv.Error as e:
        raise LabelsError(f"{name}:{reader.line_num}: malformed CSV: {e}") from None
    for type_id in sorted(
        set(selected) | {t for t, a in usage.items() if any(v is True for k, v in a.items() if k != "line")}
    ):
        a = usage.get(type_id, {})
        collected = a.get(f"PSL_DATA_USAGE_COLLECTION_AND_SHARING|{ONLY_COLLECTED}") is True
        shared = a.get(f"PSL_DATA_USAGE_COLLECTION_AND_SHARING|{ONLY_SHARED}") is True
        if not collected and not shared:
            collected = True  # selected without an answer: the least it can mean
        control: bool | None = None
        if a.get(f"DATA_USAGE_USER_CONTROL|{CONTROL_REQUIRED}") is True:
            control = True
        elif a.get(f"DATA_USAGE_USER_CONTROL|{CONTROL_OPTIONAL}") is True:
            control = False
        eph = a.get("PSL_DATA_USAGE_EPHEMERAL|")
        decl.types[type_id] = DeclaredType(
            id=type_id,
            collected=collected,
            shared=shared,
            collection_purposes={
                p for p in mapping.play_purposes() if a.get(f"DATA_USAGE_COLLECTION_PURPOSE|{p}") is True
            },
            sharing_purposes={p for p in mapping.play_purposes() if a.get(f"DATA_USAGE_SHARING_PURPOSE|{p}") is True},
            ephemeral=eph if isinstance(eph, bool) else None,
            required=control,
            line=selected.get(type_id) or _line(a),
        )
    decl.not_collected = collects is False and not decl.types
    return decl


def _line(answers: dict[str, object]) -> int:
    line = answers.get("line", 0)
    return line if isinstance(line, int) else 0


def _value(flag: bool) -> str:
    return "true" if flag else ""


def write_play_csv(decl: Declaration) -> str:
    """A data safety CSV for ``decl`` in the shape of Play Console's export: the header, the
    general questions (the input's answers kept, or left empty), one row per data type, then
    the usage rows of every type (19 per type), with Play's labels and values."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(header())
    kept: dict[tuple[str, str], list[str]] = {}
    for _, row in decl.rows:
        key = (row[0].strip(), row[1].strip())
        if key in _general():
            kept.setdefault(key, [c for c in row])
    play = mapping.data()["play"]
    general = [tuple(g) for g in play["general_questions"]]
    general += [tuple(g) for g in play["legacy_general_questions"] if (g[0], g[1]) in kept]
    for q, r, req, label in general:
        row = kept.get((q, r)) or [q, r, "", req, label]
        if q == COLLECTS:
            row = [q, r, "true" if decl.types else "false", row[3] or req, row[4] or label]
        w.writerow(row)
    for t in play["data_types"]:
        w.writerow([t["group"], t["id"], _value(t["id"] in decl.types), "MULTIPLE_CHOICE", t["label"]])
    for t in play["data_types"]:
        d = decl.types.get(t["id"])
        friendly = t["label"].split(" / ")[-1]
        for question, spec in _usage().items():
            qid = f"{USAGE_PREFIX}:{t['id']}:{question}"
            labels = spec.get("response_labels")
            for i, rid in enumerate(_responses(question)):
                tail = labels[i] if isinstance(labels, list) else mapping.play_purposes()[rid]
                label = f"Data usage and handling ({friendly}) / {spec['label']}" + (f" / {tail}" if tail else "")
                w.writerow([qid, rid, _answer(d, question, rid), spec["requirement"], label])
    return out.getvalue()


def _answer(d: DeclaredType | None, question: str, rid: str) -> str:
    if d is None:
        return ""
    if question == "PSL_DATA_USAGE_COLLECTION_AND_SHARING":
        return _value(d.collected if rid == ONLY_COLLECTED else d.shared)
    if question == "PSL_DATA_USAGE_EPHEMERAL":
        return "true" if d.ephemeral else "false"
    if question == "DATA_USAGE_USER_CONTROL":
        required = d.required if d.required is not None else True
        return _value(required if rid == CONTROL_REQUIRED else not required)
    if question == "DATA_USAGE_COLLECTION_PURPOSE":
        return _value(rid in d.collection_purposes)
    return _value(d.shared and rid in d.sharing_purposes)
