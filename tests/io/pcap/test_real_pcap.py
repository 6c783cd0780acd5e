"""The pcap reader against TShark on public captures from other projects' test suites.

The captures live in ``../shared/data/real-pcap`` (never copied into the repo); TShark runs on
them at test time, so nothing it prints is committed. Server names count from TLS ClientHellos,
every QUIC version TShark decrypts (``tls.handshake.extensions_server_name``) and gQUIC
(``gquic.tag.sni``); the auditor's names are the destinations it says were seen by ``sni`` or
``quic``. Also runnable as a script for a per-file table: ``python tests/io/pcap/test_real_pcap.py``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest

# Run as a script, the tests directory (conftest) is not on the path yet.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from conftest import ROOT, need

from auditor.io.pcap import read_pcap

pytestmark = pytest.mark.e2e

REAL = ROOT.parent / "shared" / "data" / "real-pcap"
TSHARK_FIELDS = ("tls.handshake.extensions_server_name", "gquic.tag.sni", "dns.qry.name", "http.host")


@dataclass
class Names:
    """Server names and DNS query names found in one capture."""

    sni: set[str] = field(default_factory=set)
    dns: set[str] = field(default_factory=set)
    http: set[str] = field(default_factory=set)


def captures() -> list[Path]:
    if not REAL.is_dir():
        return []
    return sorted(p for d in ("captures", "derived") for p in (REAL / d).iterdir() if p.is_file())


def _clean(name: str) -> str:
    return name.strip().rstrip(".").lower()


def _host(authority: str) -> str:
    """``[::1]:8000`` -> ``::1``; ``toni.lan:31337`` -> ``toni.lan``."""
    if authority.startswith("["):
        return authority[1:].split("]", 1)[0]
    return authority.rsplit(":", 1)[0] if authority.count(":") == 1 else authority


def tshark_names(path: Path) -> Names:
    """What TShark 4 finds in ``path`` (TCP reassembly with out-of-order segments)."""
    cmd = ["tshark", "-n", "-r", str(path), "-o", "tcp.reassemble_out_of_order:TRUE", "-T", "fields",
           "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=\x1f"]
    for f in TSHARK_FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=600,
                         env={**os.environ, "LC_ALL": "C"}).stdout
    names = Names()
    for line in out.splitlines():
        cols = line.split("\t")
        cols += [""] * (4 - len(cols))
        for col, target in ((cols[0], names.sni), (cols[1], names.sni), (cols[2], names.dns), (cols[3], names.http)):
            for v in col.split("\x1f"):
                v = _clean(v)
                if v and not v.startswith("<"):  # "<Root>", "<Name too long>": no name
                    target.add(v)
    # The audit names an HTTP destination by host without port; SSDP (HTTP over UDP) is no exchange.
    names.http = {_host(h) for h in names.http if not h.endswith(":1900")}
    return names


def auditor_names(path: Path) -> tuple[Names, list[str]]:
    warnings: list[str] = []
    r = read_pcap(path, warn=warnings.append)
    names = Names()
    for d in r.destinations:
        if "sni" in d.seen or "quic" in d.seen:
            names.sni.add(d.host)
    names.dns.update(_clean(rec.name) for rec in r.dns if _clean(rec.name))
    names.http.update(_clean(ex.host) for ex in r.exchanges if ex.http_version.startswith("HTTP/1"))
    return names, warnings


@cache
def comparison() -> list[tuple[Path, Names, Names, list[str]]]:
    files = captures()
    with ThreadPoolExecutor(max_workers=2) as pool:
        expected = list(pool.map(tshark_names, files))
    out = []
    for path, want in zip(files, expected, strict=False):
        got, warnings = auditor_names(path)
        out.append((path, want, got, warnings))
    return out


def _totals(kind: str) -> tuple[int, int, int]:
    """(found, expected, false) over every capture."""
    found = expected = false = 0
    for _, want, got, _ in comparison():
        w, g = getattr(want, kind), getattr(got, kind)
        found += len(w & g)
        expected += len(w)
        false += len(g - w)
    return found, expected, false


@pytest.fixture(scope="module")
def real() -> None:
    need(REAL.is_dir(), f"real captures not found at {REAL}")
    need(shutil.which("tshark") is not None, "tshark is not installed (Debian package tshark)")


def test_server_name_recall_and_precision_against_tshark(real: None) -> None:
    found, expected, false = _totals("sni")
    assert expected > 200  # TLS, QUIC of many versions and gQUIC names are in the set
    missed = {p.name: sorted(w.sni - g.sni) for p, w, g, _ in comparison() if w.sni - g.sni}
    extra = {p.name: sorted(g.sni - w.sni) for p, w, g, _ in comparison() if g.sni - w.sni}
    assert found / expected >= 0.98, missed
    assert false == 0, extra


def test_dns_query_name_recall_against_tshark(real: None) -> None:
    found, expected, _ = _totals("dns")
    assert expected > 50
    missed = {p.name: sorted(w.dns - g.dns) for p, w, g, _ in comparison() if w.dns - g.dns}
    assert found / expected >= 0.98, missed


def test_http_hosts_against_tshark(real: None) -> None:
    found, expected, false = _totals("http")
    assert expected > 20
    missed = {p.name: sorted(w.http - g.http) for p, w, g, _ in comparison() if w.http - g.http}
    assert found / expected >= 0.98, missed
    assert false == 0


def test_every_quic_version_and_link_type_is_read(real: None) -> None:
    """No capture has QUIC connections left undecrypted or packets of a link type not read."""
    unread = [w for _, _, _, warnings in comparison() for w in warnings
              if "could not be decrypted" in w or "unsupported link type" in w]
    assert unread == []


if __name__ == "__main__":
    total = {"sni": [0, 0, 0], "dns": [0, 0, 0], "http": [0, 0, 0]}
    for path, want, got, warnings in comparison():
        row = []
        for kind in ("sni", "dns", "http"):
            w, g = getattr(want, kind), getattr(got, kind)
            t = total[kind]
            t[0] += len(w & g)
            t[1] += len(w)
            t[2] += len(g - w)
            row.append(f"{kind} {len(w & g)}/{len(w)} +{len(g - w)}")
            if w - g:
                row.append(f"missed {sorted(w - g)[:5]}")
            if g - w:
                row.append(f"extra {sorted(g - w)[:5]}")
        print(path.name, *row, *(f"W: {x}" for x in warnings), sep="\n    ")
    for kind, (f, e, x) in total.items():
        print(f"{kind}: recall {f}/{e} = {f / max(e, 1):.3f}, false {x}")
