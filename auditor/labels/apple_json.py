"""Apple's App Privacy details as JSON: fastlane's ``app_privacy_details.json`` and the
``privacyDetails`` object of a public App Store page.

fastlane (``upload_app_privacy_details_to_app_store``) keeps a list of usages, one per data
category, sorted, with sorted purposes and protections::

    [{"category": "EMAIL_ADDRESS", "purposes": ["APP_FUNCTIONALITY"], "data_protections": ["DATA_LINKED_TO_YOU"]}]

and ``[{"data_protections": ["DATA_NOT_COLLECTED"]}]`` for an app that collects nothing.

An App Store page's ``privacyDetails`` has ``privacyTypes``: ``DATA_USED_TO_TRACK_YOU`` with
``dataCategories[].dataTypes`` (display names such as ``Email Address``), and
``DATA_LINKED_TO_YOU`` / ``DATA_NOT_LINKED_TO_YOU`` with ``purposes[].dataCategories[].dataTypes``.
"""

from __future__ import annotations

import json
from typing import Any

from auditor.labels import mapping
from auditor.labels.model import Declaration, DeclaredType, LabelsError

LINKED = "DATA_LINKED_TO_YOU"
NOT_LINKED = "DATA_NOT_LINKED_TO_YOU"
TRACKING = "DATA_USED_TO_TRACK_YOU"
NOT_COLLECTED = "DATA_NOT_COLLECTED"


def line_of(text: str, needle: str) -> int:
    """The line of the first occurrence of ``needle`` in ``text`` (1 when absent)."""
    at = text.find(needle)
    return text.count("\n", 0, at) + 1 if at >= 0 else 1


def _fail(name: str, text: str, needle: str, msg: str) -> LabelsError:
    return LabelsError(f"{name}:{line_of(text, json.dumps(needle) if needle else '')}: {msg}")


def _strings(value: Any, name: str, text: str, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(name, text, where, f"{where}: expected a list of strings")
    return value


def is_fastlane(doc: Any) -> bool:
    return (
        isinstance(doc, list)
        and all(isinstance(e, dict) for e in doc)
        and any("data_protections" in e or "category" in e for e in doc)
    )


def parse_fastlane(doc: Any, text: str, name: str) -> Declaration:
    """A parsed fastlane ``app_privacy_details.json``. Raises :class:`LabelsError`."""
    decl = Declaration(path=name, store="apple", format="fastlane_json")
    if not isinstance(doc, list):
        raise LabelsError(f"{name}:1: expected a JSON list of usages (fastlane app_privacy_details.json)")
    cats, purposes = mapping.apple_categories(), mapping.apple_purposes()
    protections = set(mapping.data()["apple"]["protections"])
    for i, entry in enumerate(doc):
        if not isinstance(entry, dict):
            raise LabelsError(f"{name}:{line_of(text, '{')}: usage [{i}] is not an object")
        unknown = set(entry) - {"category", "purposes", "data_protections"}
        if unknown:
            key = min(unknown)
            raise _fail(
                name, text, key, f"usage [{i}]: unknown key {key!r} (expected category, purposes, data_protections)"
            )
        prots = _strings(entry.get("data_protections", []), name, text, "data_protections")
        for p in prots:
            if p not in protections:
                raise _fail(
                    name,
                    text,
                    p,
                    f"usage [{i}]: unknown data protection {p!r}; expected one of: {', '.join(sorted(protections))}",
                )
        if NOT_COLLECTED in prots:
            if "category" in entry or len(prots) != 1 or len(doc) != 1:
                raise _fail(
                    name, text, NOT_COLLECTED, f"{NOT_COLLECTED} must be the only usage, alone, without a category"
                )
            decl.not_collected = True
            continue
        cat = entry.get("category")
        if not isinstance(cat, str):
            raise LabelsError(f"{name}:{line_of(text, '"data_protections"')}: usage [{i}] has no category")
        if cat not in cats:
            raise _fail(name, text, cat, f"usage [{i}]: unknown category {cat!r}")
        ps = _strings(entry.get("purposes", []), name, text, "purposes")
        for p in ps:
            if p not in purposes:
                raise _fail(
                    name, text, p, f"usage [{i}]: unknown purpose {p!r}; expected one of: {', '.join(purposes)}"
                )
        if LINKED in prots and NOT_LINKED in prots:
            raise _fail(name, text, cat, f"usage [{i}] ({cat}): both {LINKED} and {NOT_LINKED}")
        d = decl.types.setdefault(cat, DeclaredType(id=cat, line=line_of(text, json.dumps(cat))))
        d.collection_purposes.update(ps)
        if LINKED in prots:
            d.linked = True
        elif NOT_LINKED in prots and d.linked is None:
            d.linked = False
        d.tracking = d.tracking or TRACKING in prots
    return decl


def find_privacy_details(doc: Any, depth: int = 0) -> dict[str, Any] | None:
    """The object holding ``privacyTypes`` in a page's JSON (the object itself, or under
    ``privacyDetails``, at any depth up to 8, e.g. ``data[0].attributes.privacyDetails``)."""
    if depth > 8:
        return None
    if isinstance(doc, dict):
        if isinstance(doc.get("privacyTypes"), list):
            return doc
        if isinstance(doc.get("privacyDetails"), dict):
            return find_privacy_details(doc["privacyDetails"], depth + 1)
        for v in doc.values():
            if isinstance(v, (dict, list)):
                found = find_privacy_details(v, depth + 1)
                if found is not None:
                    return found
    elif isinstance(doc, list):
        for v in doc[:50]:
            found = find_privacy_details(v, depth + 1)
            if found is not None:
                return found
    return None


def _page_type(value: Any, name: str, text: str) -> str:
    by_page = {c["page"].lower(): c["id"] for c in mapping.apple_categories().values()}
    if isinstance(value, str):
        if value in mapping.apple_categories():
            return value
        if value.lower() in by_page:
            return by_page[value.lower()]
    raise _fail(name, text, value if isinstance(value, str) else "", f"unknown data type {value!r}")


def _categories(value: Any, name: str, text: str) -> list[str]:
    out: list[str] = []
    if not isinstance(value, list):
        raise LabelsError(f"{name}:{line_of(text, '"dataCategories"')}: dataCategories: expected a list")
    for c in value:
        if not isinstance(c, dict):
            raise LabelsError(f"{name}:{line_of(text, '"dataCategories"')}: dataCategories: expected objects")
        for t in c.get("dataTypes") or []:
            out.append(_page_type(t, name, text))
    return out


def parse_page(details: dict[str, Any], text: str, name: str) -> Declaration:
    """A parsed App Store page ``privacyDetails``. Raises :class:`LabelsError`."""
    decl = Declaration(path=name, store="apple", format="app_store_page")
    purposes = mapping.apple_purposes()
    for pt in details["privacyTypes"]:
        ident = pt.get("identifier") if isinstance(pt, dict) else None
        if ident not in (TRACKING, LINKED, NOT_LINKED, NOT_COLLECTED):
            raise _fail(name, text, ident if isinstance(ident, str) else "", f"unknown privacy type {ident!r}")
        if ident == NOT_COLLECTED:
            decl.not_collected = True
            continue
        if ident == TRACKING:
            for t in _categories(pt.get("dataCategories") or [], name, text):
                d = decl.types.setdefault(t, DeclaredType(id=t, line=line_of(text, t)))
                d.tracking = True
            continue
        for p in pt.get("purposes") or []:
            pid = p.get("identifier") if isinstance(p, dict) else None
            if pid not in purposes:
                raise _fail(name, text, pid if isinstance(pid, str) else "", f"unknown purpose {pid!r}")
            for t in _categories(p.get("dataCategories") or [], name, text):
                d = decl.types.setdefault(t, DeclaredType(id=t, line=line_of(text, t)))
                d.collection_purposes.add(pid)
                if ident == LINKED:
                    d.linked = True
                elif d.linked is None:
                    d.linked = False
    if decl.types:
        decl.not_collected = False
    return decl


def write_fastlane(decl: Declaration) -> str:
    """fastlane's ``app_privacy_details.json`` for ``decl`` (sorted as fastlane writes it)."""
    if not decl.types:
        usages: list[dict[str, Any]] = [{"data_protections": [NOT_COLLECTED]}]
    else:
        usages = []
        for cat in sorted(decl.types):
            d = decl.types[cat]
            prots = [LINKED if d.linked else NOT_LINKED] + ([TRACKING] if d.tracking else [])
            usages.append(
                {"category": cat, "purposes": sorted(d.collection_purposes), "data_protections": sorted(prots)}
            )
    return json.dumps(usages, indent=2) + "\n"
