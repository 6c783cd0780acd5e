"""A corrected declaration: what was declared, with what the traffic showed added to it.

Nothing declared is taken away: a type the test run did not show is kept (a run covers only
the paths it exercised), and so are purposes and sharing it could not show. Added: every
undeclared type (the first of its alternatives), ``shared`` for types sent to third parties, the
purposes inferred from each third party's service category, and Apple's ``linked`` and
``tracking``. A Play CSV input gives a Play CSV in the shape of Play Console's export; every
Apple input gives fastlane's ``app_privacy_details.json``.
"""

from __future__ import annotations

import copy
from pathlib import Path

from auditor.labels.apple_json import write_fastlane
from auditor.labels.judge import Verdict
from auditor.labels.model import Declaration, DeclaredType, LabelsError
from auditor.labels.play_csv import write_play_csv


def corrected(verdict: Verdict) -> Declaration:
    """The declaration of ``verdict`` corrected by what was observed."""
    src = verdict.declaration
    out = Declaration(path=src.path, store=src.store, format=src.format, rows=list(src.rows))
    out.types = {t: copy.deepcopy(d) for t, d in src.types.items()}
    for item in verdict.items:
        ob = item.observation
        if ob is None:
            continue
        d = out.types.get(item.type)
        if d is None:
            d = out.types[item.type] = DeclaredType(id=item.type, collected=True, ephemeral=False)
        d.collected = True
        receivers = list(ob.receivers.values())
        for req in sorted(ob.required_purposes(receivers), key=len):
            if not set(req) & d.collection_purposes:
                d.collection_purposes.add(req[0])
        if src.store == "play":
            if ob.third:
                d.shared = True
            if d.shared:
                for req in sorted(ob.required_purposes(ob.third), key=len):
                    if not set(req) & d.sharing_purposes:
                        d.sharing_purposes.add(req[0])
            if not d.collection_purposes:
                d.collection_purposes.add("PSL_APP_FUNCTIONALITY")
        else:
            if ob.linked:
                d.linked = True
            elif d.linked is None:
                d.linked = False
            d.tracking = d.tracking or ob.tracking
            if not d.collection_purposes:
                d.collection_purposes.add("APP_FUNCTIONALITY")
    out.not_collected = not out.types
    if src.format == "xcprivacy" or src.store == "apple":
        out.format = "fastlane_json"
    return out


def render_draft(verdict: Verdict) -> tuple[str, str]:
    """The corrected declaration's text and its file suffix (``.csv`` or ``.json``)."""
    decl = corrected(verdict)
    if decl.store == "play":
        return write_play_csv(decl), ".csv"
    return write_fastlane(decl), ".json"


def draft_paths(target: Path, inputs: list[str], suffixes: list[str]) -> list[Path]:
    """Where each draft goes: ``target`` itself for one input (unless it is a directory), else
    ``target/<input stem>.draft<suffix>`` for each. Never an input's own path."""
    many = len(inputs) > 1 or target.is_dir() or str(target).endswith(("/", "\\"))
    if many:
        paths = [target / (Path(i).stem + ".draft" + s) for i, s in zip(inputs, suffixes, strict=True)]
        stems = [p.name for p in paths]
        for i, p in enumerate(paths):
            if stems.count(p.name) > 1:
                paths[i] = target / f"{Path(inputs[i]).stem}.{i + 1}.draft{suffixes[i]}"
    else:
        paths = [target]
    for p in paths:
        for given in inputs:
            if _same(p, Path(given)):
                raise LabelsError(f"{p}: the draft would overwrite its input; give another --draft path")
    return paths


def _same(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return a.samefile(b)
    except OSError:
        pass
    return a.resolve() == b.resolve()
