"""Reading a declaration file, whichever of the formats it is (told from the content)."""

from __future__ import annotations

import json
from pathlib import Path

from auditor.labels.apple_json import find_privacy_details, is_fastlane, parse_fastlane, parse_page
from auditor.labels.model import Declaration, LabelsError
from auditor.labels.play_csv import parse_play_csv
from auditor.labels.xcprivacy import looks_like_plist, parse_xcprivacy

MAX_BYTES = 16 << 20  # a real declaration is a few hundred kB at most


def read_bytes(path: Path) -> bytes:
    name = str(path)
    try:
        if path.is_dir():
            raise LabelsError(f"{name}: is a directory, not a declaration file")
        with path.open("rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise LabelsError(f"{name}: no such file") from None
    except PermissionError:
        raise LabelsError(f"{name}: permission denied") from None
    except OSError as e:
        raise LabelsError(f"{name}: cannot read ({e.strerror or e})") from None
    if len(data) > MAX_BYTES:
        raise LabelsError(f"{name}: larger than {MAX_BYTES >> 20} MiB: not a declaration file")
    return data


def parse_declaration(data: bytes, name: str) -> Declaration:
    """Parse a declaration: Play data safety CSV, fastlane ``app_privacy_details.json``, an App
    Store page's ``privacyDetails`` JSON, or ``PrivacyInfo.xcprivacy`` (XML or binary).
    Raises :class:`LabelsError` with one line naming the file and the line."""
    if looks_like_plist(data):
        return parse_xcprivacy(data, name)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise LabelsError(f"{name}:{line}: not UTF-8 text (byte {e.start})") from None
    stripped = text.lstrip()
    if stripped.startswith(("[", "{")):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as e:
            raise LabelsError(f"{name}:{e.lineno}: invalid JSON: {e.msg}") from None
        except RecursionError:
            raise LabelsError(f"{name}:1: invalid JSON: nested too deeply") from None
        if is_fastlane(doc) or doc == []:
            return parse_fastlane(doc, text, name)
        details = find_privacy_details(doc)
        if details is not None:
            return parse_page(details, text, name)
        raise LabelsError(
            f"{name}:1: JSON that is neither fastlane's app_privacy_details.json (a list of usages) "
            "nor an App Store page's privacyDetails (with privacyTypes)"
        )
    return parse_play_csv(text, name)


def load_declaration(path: str | Path) -> Declaration:
    """Read and parse a declaration file. Raises :class:`LabelsError`."""
    p = Path(path)
    return parse_declaration(read_bytes(p), str(path))
