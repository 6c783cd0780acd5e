"""Every host the corpora, fixtures and tests name keeps its owner and its country.

``tests/data/owner-snapshot.json`` lists the owner country of each such host as auditor resolved
it before its owner data became the project's own curated facts only. A host with a known country
keeps its owner and that country. A host whose country was unknown (its owner came from a
third-party list with no country) may gain an owner and a country, or stay unknown: the owners
whose seat could not be established are left to the user's owners file (``--owners``).
"""

from __future__ import annotations

import json

from conftest import ROOT

from auditor.destinations import owners

SNAPSHOT = ROOT / "tests" / "data" / "owner-snapshot.json"


def test_every_snapshot_host_keeps_its_owner_and_country() -> None:
    hosts: dict[str, str | None] = json.loads(SNAPSHOT.read_text(encoding="utf-8"))["hosts"]
    assert len(hosts) > 300
    lost, moved = [], []
    for host, country in hosts.items():
        m = owners.lookup(host)
        if country is None:
            continue  # nothing known to keep; any owner found now is a gain
        if m is None:
            lost.append(host)
            continue
        now = m.owner.country or m.owner.parent_country
        if now != country:
            moved.append(f"{host}: {country} -> {now}")
    assert not lost, f"hosts without an owner now: {lost}"
    assert not moved, moved


def test_snapshot_hosts_resolve_from_curated_data_only() -> None:
    hosts = json.loads(SNAPSHOT.read_text(encoding="utf-8"))["hosts"]
    matches = [owners.lookup(h) for h in hosts]
    assert {m.origin for m in matches if m is not None} == {"curated"}
    unknown = sorted(h for h, c in hosts.items() if c is None)
    assert len(unknown) < 10, unknown
