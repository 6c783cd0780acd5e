"""The iOS privacy manifest ``PrivacyInfo.xcprivacy``: a property list, XML or binary.

Keys read: ``NSPrivacyTracking`` (bool), ``NSPrivacyTrackingDomains`` (strings) and
``NSPrivacyCollectedDataTypes``: dictionaries with ``NSPrivacyCollectedDataType``,
``NSPrivacyCollectedDataTypeLinked``, ``NSPrivacyCollectedDataTypeTracking`` and
``NSPrivacyCollectedDataTypePurposes``. ``NSPrivacyAccessedAPITypes`` is not about data leaving
the device and is ignored.
"""

from __future__ import annotations

import plistlib
from xml.parsers.expat import ExpatError

from auditor.labels import mapping
from auditor.labels.apple_json import line_of
from auditor.labels.model import Declaration, DeclaredType, LabelsError

BINARY_MAGIC = b"bplist00"


def looks_like_plist(data: bytes) -> bool:
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    return (
        data.startswith(BINARY_MAGIC)
        or (head.startswith(b"<?xml") and b"<plist" in data[:2048])
        or head.startswith(b"<plist")
    )


def parse_xcprivacy(data: bytes, name: str) -> Declaration:
    """Parse a privacy manifest. Raises :class:`LabelsError`."""
    binary = data.startswith(BINARY_MAGIC)
    text = "" if binary else data.decode("utf-8", "replace")
    try:
        root = plistlib.loads(data)
    except ExpatError as e:
        raise LabelsError(f"{name}:{e.lineno}: malformed property list: {e}") from None
    except (
        plistlib.InvalidFileException,
        ValueError,
        TypeError,
        KeyError,
        IndexError,
        OverflowError,
        LookupError,
        RecursionError,
    ) as e:
        if binary:
            raise LabelsError(f"{name}: malformed binary property list: {e or type(e).__name__}") from None
        raise LabelsError(f"{name}:1: malformed property list: {e or type(e).__name__}") from None

    def fail(needle: str, msg: str, index: str = "") -> LabelsError:
        if binary:
            return LabelsError(f"{name}: {index}{msg}")
        return LabelsError(f"{name}:{line_of(text, needle)}: {msg}")

    if not isinstance(root, dict):
        raise fail("<plist", "the property list's root is not a dictionary")
    decl = Declaration(path=name, store="apple", format="xcprivacy")
    tracking = root.get("NSPrivacyTracking")
    if tracking is not None and not isinstance(tracking, bool):
        raise fail("NSPrivacyTracking", "NSPrivacyTracking: expected true or false")
    decl.tracking = tracking
    domains = root.get("NSPrivacyTrackingDomains")
    if domains is not None:
        if not isinstance(domains, list) or not all(isinstance(d, str) for d in domains):
            raise fail("NSPrivacyTrackingDomains", "NSPrivacyTrackingDomains: expected an array of strings")
        decl.tracking_domains = [d.strip().lower().rstrip(".") for d in domains if d.strip()]
    collected = root.get("NSPrivacyCollectedDataTypes", [])
    if not isinstance(collected, list):
        raise fail("NSPrivacyCollectedDataTypes", "NSPrivacyCollectedDataTypes: expected an array")
    by_manifest = {c["manifest"]: c["id"] for c in mapping.apple_categories().values()}
    manifest_only = set(mapping.data()["apple"]["manifest_only_types"])
    purposes = {p["manifest"]: p["id"] for p in mapping.apple_purposes().values()}
    for i, entry in enumerate(collected):
        at = f"NSPrivacyCollectedDataTypes[{i}]: "
        if not isinstance(entry, dict):
            raise fail("NSPrivacyCollectedDataTypes", f"{at}expected a dictionary", at)
        kind = entry.get("NSPrivacyCollectedDataType")
        if not isinstance(kind, str):
            raise fail("NSPrivacyCollectedDataTypes", f"{at}missing NSPrivacyCollectedDataType", at)
        if kind in manifest_only:
            cat = "OTHER_DATA"  # visionOS sensor data: no App Store Connect category of its own
        elif kind in by_manifest:
            cat = by_manifest[kind]
        else:
            raise fail(kind, f"unknown data type {kind!r}", at)
        linked = entry.get("NSPrivacyCollectedDataTypeLinked")
        track = entry.get("NSPrivacyCollectedDataTypeTracking")
        for key, value in (("NSPrivacyCollectedDataTypeLinked", linked), ("NSPrivacyCollectedDataTypeTracking", track)):
            if value is not None and not isinstance(value, bool):
                raise fail(key, f"{key}: expected true or false", at)
        ps = entry.get("NSPrivacyCollectedDataTypePurposes", [])
        if not isinstance(ps, list) or not all(isinstance(p, str) for p in ps):
            raise fail(
                "NSPrivacyCollectedDataTypePurposes",
                "NSPrivacyCollectedDataTypePurposes: expected an array of strings",
                at,
            )
        d = decl.types.setdefault(cat, DeclaredType(id=cat, line=1 if binary else line_of(text, kind)))
        for p in ps:
            if p not in purposes:
                raise fail(p, f"unknown purpose {p!r}", at)
            d.collection_purposes.add(purposes[p])
        if linked is not None:
            d.linked = bool(d.linked) or linked
        d.tracking = d.tracking or bool(track)
    return decl
