"""What a selector is matched against: the facts of a finding or destination of the report document."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from auditor.audit.document import Destination
from auditor.destinations import dpf


@dataclass(frozen=True)
class Facts:
    """What is known of one finding (or destination, when ``category`` is None)."""

    host: str
    category: str | None = None
    countries: frozenset[str] = frozenset()
    party: str = "unknown"
    cleartext: bool = False
    owner_names: tuple[str, ...] = ()
    service: str | None = None
    categories: frozenset[str] | None = None  # a destination's data categories (baseline checks)
    behaviour: str | None = None  # for what a web page did: keylogging, fingerprinting...
    undeclared: bool = False  # the finding's data type is undeclared in a store label (--declared)
    dpf_participant: bool = False  # the owner (or its parent) is a Data Privacy Framework participant


def destination_countries(dest: Destination | None) -> frozenset[str]:
    """The owner's country and the registry country of each server address of a destination."""
    if not dest:
        return frozenset()
    out = set()
    owner = dest.get("owner")
    if owner and owner.get("country"):
        out.add(str(owner["country"]).upper())
    for c in dest.get("server_countries") or ():
        if c:
            out.add(str(c).upper())
    return frozenset(out)


def destination_facts(dest: Destination | None, host: str, dpf_also: tuple[str, ...] = ()) -> Facts:
    """The facts of a destination of the report document (``dest`` may be missing).
    ``dpf_also``: Data Privacy Framework participants named in the policy, beside the bundled list."""
    if not dest:
        return Facts(host=host.lower())
    owner = dest.get("owner")
    names = tuple(n.lower() for n in ((owner.get("name"), owner.get("parent")) if owner else ()) if n)
    return Facts(
        host=str(dest.get("host") or host).lower(),
        countries=destination_countries(dest),
        party=dest.get("party") or "unknown",
        cleartext=bool(dest.get("cleartext")),
        owner_names=names,
        service=dest.get("category"),
        categories=frozenset(dest.get("data_categories") or ()),
        dpf_participant=dpf.is_participant(names, dpf_also),
    )


def finding_cleartext(finding: Mapping[str, Any], dest: Destination | None) -> bool:
    """Whether the request that carried a finding went unencrypted (http:// or ws://)."""
    req = finding.get("request")
    url = req.get("url") if req else None
    if isinstance(url, str) and "://" in url:
        return url.split("://", 1)[0].lower() in ("http", "ws")
    return bool(dest and dest.get("cleartext"))


def finding_facts(
    finding: Mapping[str, Any], dest: Destination | None, undeclared: bool = False, dpf_also: tuple[str, ...] = ()
) -> Facts:
    base = destination_facts(dest, finding.get("host", ""), dpf_also)
    return Facts(
        undeclared=undeclared,
        host=base.host,
        category=finding.get("category"),
        countries=base.countries,
        party=base.party,
        cleartext=finding_cleartext(finding, dest),
        owner_names=base.owner_names,
        service=base.service,
        dpf_participant=base.dpf_participant,
    )
