"""The audit: run the pipeline over captures and aggregate it into one report document.

The document is plain JSON-ready data following ``schema/audit-v1.schema.json``; every renderer
(JSON, HTML, Markdown) works from it. Values are masked here unless ``reveal`` is set, so no
renderer can leak a raw value by mistake.

Each exchange is walked, classified, then traced (:mod:`auditor.classifiers.tracing`): values found earlier
in the stream, or given as known values, are looked up in it, and the values it holds first are
looked up in the exchanges before it; a match is a finding whose ``derived`` names where a
detector found the value (or the known value) and its encoding.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from auditor import __version__
from auditor.audit.masking import mask, mask_url, sha256
from auditor.audit.spool import RecordSpool
from auditor.classifiers import classify
from auditor.classifiers.known import KnownValue
from auditor.classifiers.tracing import Earlier, Tracer
from auditor.destinations import jurisdictions
from auditor.destinations.resolve import Destination, Resolver
from auditor.extract import walk_exchange
from auditor.extract.replay import Memory as ReplayMemory
from auditor.io.capture import Capture, open_capture
from auditor.limits import DEFAULT_LIMITS, Limits
from auditor.models import CaptureInfo, Exchange, Finding

SCHEMA_VERSION = "1"

Warn = Callable[[str], None]
Progress = Callable[[int, int], None]  # (exchanges, bytes) read; see auditor.progress


@dataclass
class AuditOptions:
    reveal: bool = False
    first_party: Sequence[str] = ()
    first_party_origin: str = "option"  # where first_party was named: "option" or "policy"
    known: Sequence[KnownValue] = ()  # seeds cross-flow tracing (``--known``)
    limits: Limits = DEFAULT_LIMITS  # what is read, inflated and walked (``--max-*``)
    keylog: Any = None  # auditor.io.tlsdecrypt.KeyLog: decrypts TLS/QUIC in pcaps (``--keylog``)


@dataclass
class Auditor:
    """Accumulates exchanges one at a time (offline replay and live capture alike)."""

    options: AuditOptions = field(default_factory=AuditOptions)
    resolver: Resolver = field(default_factory=Resolver)
    captures: list[CaptureInfo] = field(default_factory=list)
    findings: RecordSpool = field(default_factory=RecordSpool)  # moves to a temp file when large
    tracer: Tracer = field(default_factory=Tracer)
    derived_findings: int = 0  # findings with ``derived`` set by cross-flow tracing
    replays: ReplayMemory = field(default_factory=ReplayMemory)  # session replay pages, by host
    depth_cut: int = 0  # exchanges nested deeper than ``limits.max_depth`` (the rest not walked)
    walk_failed: int = 0  # exchanges with a part whose walk stopped on an error (the rest of it not walked)
    first_walk_failure: str = ""
    _sessions: list[tuple[str, int, int]] = field(default_factory=list)  # (capture, exchanges, fingerprint)
    notes: list[str] = field(default_factory=list)  # the warnings add_capture added to the captures

    traced_back: set[str] = field(default_factory=set)  # hosts given findings in earlier exchanges
    categories: Counter[str] = field(default_factory=Counter)  # findings per category (of self.findings)

    def _note(self, cap: Capture, msg: str) -> None:
        cap.info.warnings.append(msg)
        self.notes.append(msg)

    def __post_init__(self) -> None:
        for k in self.options.known:
            self.tracer.add_known(k.category, k.value, k.key)

    def add_exchange(self, ex: Exchange, via: str = "proxy") -> list[Finding]:
        """Analyse one exchange; return its findings (raw values). ``via``: "proxy" for
        proxy captures, "http" for cleartext HTTP read from a network capture, "decrypted" for
        HTTP decrypted from a network capture with a key log."""
        limits = self.options.limits
        fields = walk_exchange(
            ex,
            max_depth=limits.max_depth,
            max_fields=limits.max_fields,
            max_inflated=limits.max_inflated,
            replays=self.replays,
        )
        if fields.depth_cut:
            self.depth_cut += 1
        if fields.failures:
            self.walk_failed += 1
            self.first_walk_failure = self.first_walk_failure or fields.failures[0]
        found = self.tracer.trace(ex, fields, classify(ex, fields))
        dest = self.resolver.add_exchange(ex, via)
        if self.tracer.earlier:
            self._add_earlier()
        if found:
            secrets = [f.value for f in found]
            url = ex.url if self.options.reveal else mask_url(ex.url, secrets)
            if ex.cleartext:
                dest.cleartext_personal += 1
            for f in found:
                dest.data_categories[f.category] = dest.data_categories.get(f.category, 0) + 1
                if f.category == "prompt" and f.detector.startswith("prompt.format."):
                    dest.prompt_endpoint = True
                if f.derived is not None:
                    self.derived_findings += 1
                self.categories[f.category] += 1
                self.findings.append(self._finding(ex, f, url))
        return found

    def _add_earlier(self) -> None:
        """Record the findings that tracing made in earlier exchanges (a value seen now was
        already sent there); their hosts go to :attr:`traced_back` for the live summaries."""
        for e, f in self.tracer.earlier:
            dest = self.resolver.get(e.host)
            dest.data_categories[f.category] = dest.data_categories.get(f.category, 0) + 1
            self.derived_findings += 1
            url = e.url if self.options.reveal else mask_url(e.url, [x.value for x in e.found])
            self.categories[f.category] += 1
            self.findings.append(self._finding(e, f, url))
            self.traced_back.add(e.host)
        self.tracer.earlier.clear()

    def _finding(self, ex: Exchange | Earlier, f: Finding, url: str) -> dict[str, Any]:
        return {
            "flow": {"capture": ex.capture, "index": ex.index, "id": ex.id},
            "host": ex.host,
            "category": f.category,
            "location": {"part": f.part, "path": f.path},
            "value": f.value if self.options.reveal else mask(f.category, f.value),
            "value_sha256": sha256(f.value),
            "detector": f.detector,
            "confidence": f.confidence,
            "derived": f.derived,
            "request": {"method": ex.method, "url": url},
        }

    def add_capture(self, cap: Capture, progress: Progress | None = None) -> None:
        self.captures.append(cap.info)
        via = "http" if cap.info.format == "pcap" else "proxy"
        for nd in cap.network:
            self.resolver.add_network(nd)
        decode_errors = 0
        first_error = ""
        depth_cut, walk_failed = self.depth_cut, self.walk_failed
        count, fingerprint = 0, 0
        for ex in cap.exchanges:
            count += 1
            fingerprint = (fingerprint + _exchange_digest(ex)) & _MASK64
            if ex.body_errors:
                decode_errors += 1
                first_error = first_error or ex.body_errors[0][:200]
            self.add_exchange(ex, "decrypted" if via == "http" and ex.tls is not None else via)
            if progress is not None:
                progress(1, _size(ex))
        if decode_errors:
            self._note(
                cap,
                f"{Path(cap.info.path).name}: {decode_errors} exchange(s) with a body that could not be fully decoded"
                f" or read (first: {first_error})",
            )
        for host, reason in cap.opaque:  # connections a live audit could not see into
            self.resolver.add_opaque(host, reason)
        if self.depth_cut > depth_cut:
            self._note(
                cap,
                f"{Path(cap.info.path).name}: {self.depth_cut - depth_cut} exchange(s) nested deeper than "
                f"the depth limit ({self.options.limits.max_depth} levels); the deeper levels were not analysed "
                "(raise --max-depth)",
            )
        if self.walk_failed > walk_failed:
            self._note(
                cap,
                f"{Path(cap.info.path).name}: {self.walk_failed - walk_failed} exchange(s) whose fields could not "
                f"all be walked (first: {self.first_walk_failure}); the fields before the error were analysed",
            )
        self._check_duplicate(cap, count, fingerprint)

    def _check_duplicate(self, cap: Capture, count: int, fingerprint: int) -> None:
        """Warn when a capture holds exactly the exchanges of one read before (the same session
        as ``.flows`` and ``.har``): they would be counted twice."""
        if count:
            for name, n, fp in self._sessions:
                if (n, fp) == (count, fingerprint):
                    self._note(
                        cap,
                        f"{Path(cap.info.path).name} holds the same {count:,} exchange(s) as {name} (the same session "
                        "in two formats?): they are counted twice in this report; give only one of them",
                    )
                    break
        self._sessions.append((Path(cap.info.path).name, count, fingerprint))

    def document(self, stream: bool = False) -> dict[str, Any]:
        """The report document (schema version 1). With ``stream``, its findings may be a
        :class:`RecordSpool` read from disk (write it with ``renderers.render_to``), else a list."""
        first_party = self.resolver.assign_parties(self.options.first_party, self.options.first_party_origin)
        dests = sorted(self.resolver.by_host.values(), key=lambda d: (-d.exchanges, d.host))
        categories = +self.categories  # (the same as counting self.findings, without reading them back)
        countries: Counter[str] = Counter()
        for d in dests:
            countries[_country(d) or "unknown"] += 1
        return {
            "schema_version": SCHEMA_VERSION,
            "generator": {"name": "auditor", "version": __version__},
            "created": datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
            "revealed": self.options.reveal,
            "captures": [
                {"path": c.path, "format": c.format, "exchanges": c.exchanges, "warnings": list(c.warnings)}
                | ({"decryption": c.decryption} if c.decryption is not None else {})
                for c in self.captures
            ],
            "summary": {
                "exchanges": sum(c.exchanges for c in self.captures),
                "destinations": len(dests),
                "findings": len(self.findings),
                "derived_findings": self.derived_findings,
                "known_values": len(self.options.known),
                "categories": dict(sorted(categories.items())),
                "countries": dict(sorted(countries.items())),
                "third_party_destinations": sum(1 for d in dests if d.party == "third"),
                "cleartext_destinations": sum(1 for d in dests if d.cleartext),
                "bypassed_proxy_destinations": sum(1 for d in dests if self.resolver.bypassed_proxy(d)),
                "cleartext_personal_data_destinations": sum(1 for d in dests if d.cleartext_personal),
            },
            "first_party": first_party,
            "jurisdictions": _jurisdictions(dests),
            "findings": self.findings.value() if stream else list(self.findings),
            "destinations": [_destination(d, self.resolver.bypassed_proxy(d)) for d in dests],
        }


def _size(ex: Exchange) -> int:
    """Bytes of an exchange's bodies and messages (what progress counts as read)."""
    return len(ex.request_body) + len(ex.response_body) + sum(len(m.content) for m in ex.websocket)


_MASK64 = (1 << 64) - 1


def _exchange_digest(ex: Exchange) -> int:
    """A 64-bit digest of what makes an exchange the same in any capture format: method, URL
    and the second it started (bodies are not compared: HAR keeps binary ones differently).
    Summed over a capture, it does not depend on order."""
    second = int(ex.timestamp) if ex.timestamp is not None else -1
    key = f"{ex.method}\0{ex.host}\0{ex.path}\0{second}"
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "big")


def _country(d: Destination) -> str | None:
    return d.owner.country if d.owner and d.owner.country else None


def _destination(d: Destination, bypassed_proxy: bool) -> dict[str, Any]:
    owner = None
    if d.owner:
        owner = {
            "name": d.owner.name,
            "parent": d.owner.parent,
            "country": d.owner.country,
            "parent_country": d.owner.parent_country,
            "source": d.owner.source,
            "as_of": d.owner.as_of,
            "matched": d.owner_match,
            "origin": d.owner_origin,
        }
    return {
        "host": d.host,
        "registrable_domain": d.registrable_domain,
        "server_ips": list(d.server_ips),
        "server_countries": d.server_countries,
        "ip_countries": [{"ip": ip, "country": c} for ip, c in d.ip_countries],
        "tld_country": d.tld_country,
        "owner": owner,
        "category": d.service,
        "party": d.party,
        "party_note": d.party_note,
        "exchanges": d.exchanges,
        "cleartext": d.cleartext,
        "cleartext_personal_data": d.cleartext_personal > 0,
        "data_categories": sorted(d.data_categories),
        "opaque": d.opaque,
        "opaque_reason": d.opaque_reason,
        "tls_failures": d.tls_failures,
        "seen": list(d.seen),
        "bytes_out": d.bytes_out,
        "bytes_in": d.bytes_in,
        "bypassed_proxy": bypassed_proxy,
        "dns_lookup": d.dns_lookup,
        "jurisdiction": _jurisdiction_ref(d),
    }


def _jurisdiction_ref(d: Destination) -> dict[str, Any] | None:
    j = d.jurisdiction
    if j is None:
        return None
    code, basis = j
    facts = jurisdictions.lookup(code)
    return {"country": code, "basis": basis, "adequacy": facts.adequacy if facts else None}


def _jurisdictions(dests: list[Destination]) -> dict[str, Any]:
    """Legal facts for every country that a destination's owner or server is in."""
    codes: set[str] = set()
    for d in dests:
        if d.jurisdiction:
            codes.add(d.jurisdiction[0])
        codes.update(d.server_countries)
    out: dict[str, Any] = {}
    for code in sorted(codes):
        j = jurisdictions.lookup(code)
        if j is None:
            out[code] = {"name": jurisdictions.country_name(code) or code, "adequacy": None}
            continue
        out[code] = {
            "name": j.name,
            "adequacy": j.adequacy,
            "adequacy_scope": j.adequacy_scope,
            "adequacy_source": j.adequacy_source,
            "adequacy_as_of": j.adequacy_as_of,
            "government_access": [
                {"law": g.law, "summary": g.summary, "source": g.source, "as_of": g.as_of} for g in j.government_access
            ],
        }
    return out


def audit_paths(
    paths: Iterable[str | Path],
    options: AuditOptions | None = None,
    warn: Warn | None = None,
    progress: Progress | None = None,
    stream: bool = False,
) -> dict[str, Any]:
    """Audit saved captures and return the report document. Raises ``CaptureError``.

    ``stream``: see :meth:`Auditor.document` (the findings of a big audit stay on disk).
    """
    auditor = Auditor(options or AuditOptions())
    for i, path in enumerate(paths):
        cap = open_capture(path, capture=i, warn=warn, limits=auditor.options.limits, keylog=auditor.options.keylog)
        seen = len(auditor.notes)
        auditor.add_capture(cap, progress)
        if warn is not None:  # what the audit itself noticed (decoding, depth, the same session twice)
            for msg in auditor.notes[seen:]:
                warn(msg)
    return auditor.document(stream)
