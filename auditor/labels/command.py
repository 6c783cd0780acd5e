"""``auditor labels``: audit captures, judge each declaration, write reports and drafts."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from auditor.labels.draft import draft_paths, render_draft
from auditor.labels.judge import LabelsResult, judge_all
from auditor.labels.load import load_declaration
from auditor.labels.model import Declaration, LabelsError
from auditor.labels.render import render_text


def load_all(paths: list[Path]) -> list[Declaration]:
    """Every declaration, or :class:`LabelsError` for the first bad one."""
    if not paths:
        raise LabelsError("no declaration given (--declared FILE)")
    return [load_declaration(p) for p in paths]


def write_drafts(result: LabelsResult, target: Path, write: Callable[[Path, str], None]) -> list[Path]:
    """Write one corrected declaration per input; return where they went."""
    texts = [render_draft(v) for v in result.verdicts]
    paths = draft_paths(target, [v.declaration.path for v in result.verdicts], [s for _, s in texts])
    for p, (text, _) in zip(paths, texts, strict=True):
        write(p, text)
    return paths


def run(
    doc: dict[str, Any],
    declarations: list[Declaration],
    draft: Path | None,
    write: Callable[[Path, str], None],
    quiet: bool = False,
    out: TextIO | None = None,
) -> LabelsResult:
    """Judge, put the ``labels`` section into ``doc``, print the verdicts (to ``out``, default
    standard output) and write drafts."""
    result = judge_all(declarations, doc)
    doc["labels"] = result.to_json()
    text = render_text(result, doc)
    stream = out or sys.stdout
    stream.write(text.splitlines()[-1] + "\n" if quiet else text)
    stream.flush()
    if draft is not None:
        for p in write_drafts(result, draft, write):
            if not quiet:
                sys.stderr.write(f"auditor: draft written to {p}\n")
    return result
