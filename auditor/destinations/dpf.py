"""The EU-U.S. Data Privacy Framework: which US recipients count as adequate.

The EU's adequacy decision for the United States covers only organisations certified under the
Data Privacy Framework. ``auditor/data/dpf.json`` lists the participants the project has checked
on the Data Privacy Framework List (each with its record's URL and the date it was checked); a
recipient in a country the file names (the US) is adequate only when its owner or the owner's
parent is listed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

DATA_FILE = Path(__file__).resolve().parents[1] / "data" / "dpf.json"

__all__ = ["is_participant", "needs_participation", "participants"]


@cache
def _data() -> dict[str, Any]:
    with DATA_FILE.open(encoding="utf-8") as fh:
        return json.load(fh)


@cache
def participants() -> dict[str, dict[str, Any]]:
    """Listed organisations by lower-case name: ``{"name", "source", "as_of"}``."""
    return {str(p["name"]).lower(): p for p in _data().get("participants", ())}


def needs_participation(country: str) -> bool:
    """Whether adequacy for ``country`` holds only for framework participants (the US)."""
    return country.strip().upper() in set(_data().get("countries", ()))


def is_participant(owner_names: Iterable[str], also: Iterable[str] = ()) -> bool:
    """Whether any of ``owner_names`` (an owner and its parent) is a listed participant, or one
    of ``also`` (participants the user checked, named in the policy's ``dpf_participants:``)."""
    listed = participants()
    extra = {a.lower() for a in also}
    return any(n and (n.lower() in listed or n.lower() in extra) for n in owner_names)
