"""Geographic coordinates: latitude/longitude fields and ``lat,lng`` values.

Three or more decimals (about 100 m or better) is a precise location; fewer is a coarse one.
Only coordinate-named keys count (``lat``, ``longitude``, ``ll``, ``coordinates``...), so
sampling rates, model temperatures and screen positions never become places.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from auditor.classifiers import Context, lexicons
from auditor.models import Finding

_NUM = re.compile(r"^\s*(-?\d{1,3})(?:\.(\d+))?\s*$")
_PAIR = re.compile(r"^\s*\(?\s*(-?\d{1,3}(?:\.\d+)?)\s*[,;/ ]\s*(-?\d{1,3}(?:\.\d+)?)\s*\)?\s*$")
_LIST_END = re.compile(r"\[\d+\]$")  # a list member, not a quoted key such as ["$latitude"]
PRECISE_DECIMALS = 3


def _coordinate(text: str, limit: float) -> int | None:
    """The number of decimals of a coordinate within ``limit``, or None if it is not one."""
    m = _NUM.match(text)
    if not m:
        return None
    value = float(text)
    if abs(value) > limit or value == 0:
        return None
    return len(m.group(2) or "")


def _decimals(text: str) -> int:
    return len(text.partition(".")[2])


def interested(part: str, path: str, parent: str, key: str) -> bool:
    return (
        key in lexicons.names("latitude_keys")
        or key in lexicons.names("longitude_keys")
        or key in lexicons.names("lat_lng_pair_keys")
    )


def detect(ctx: Context) -> Iterator[Finding]:
    lat_keys = lexicons.names("latitude_keys")
    lng_keys = lexicons.names("longitude_keys")
    pair_keys = lexicons.names("lat_lng_pair_keys")
    for f, (_parent, key) in ctx.select("location"):
        if f.kind != "value" or not f.value or len(f.value) > 64:
            continue
        if key in lat_keys or key in lng_keys:
            if _LIST_END.search(f.path):
                continue  # a list under a coordinate name is a series, not one place
            places = _coordinate(f.value, 90.0 if key in lat_keys else 180.0)
        elif key in pair_keys:
            m = _PAIR.match(f.value)
            if m:
                a, b = float(m.group(1)), float(m.group(2))
                if not (abs(a) <= 180 and abs(b) <= 180 and (abs(a) <= 90 or abs(b) <= 90)) or a == b == 0:
                    continue
                places = min(_decimals(m.group(1)), _decimals(m.group(2)))
            elif f.path.endswith(("[0]", "[1]")) and not f.path.endswith(("][0]", "][1]")):
                places = _coordinate(f.value, 180.0)
            else:
                continue
        else:
            continue
        if places is None:
            continue
        if places >= PRECISE_DECIMALS:
            yield Finding("precise_location", f.part, f.path, f.value, "precise_location.key", 0.9)
        else:
            yield Finding("coarse_location", f.part, f.path, f.value, "coarse_location.coordinates", 0.7)
