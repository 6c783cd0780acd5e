"""Benchmark: peak memory and time of ``auditor redact`` as the capture grows.

Two kinds of traffic (``--traffic``), each generated at every size:

- ``hostile``: the readable flows of the committed hostile corpus (``tests/hostile``: binary,
  protobuf, gRPC and msgpack bodies, undecodable content encodings, invalid UTF-8 in the path,
  headers and host, lone surrogates, control characters and bidirectional overrides), repeated,
  each copy with its own planted values (the e-mail addresses and flow ids carry the copy's
  number), so the set of values to replace grows with the capture;
- ``chat``: the captures of ``bench_memory.py`` (realistic AI-chat traffic: prompts, analytics
  events, crash reports, assets; a distinct prompt in most requests).

Each capture is redacted in a fresh subprocess, which reports its own peak resident set size
(``VmHWM`` from ``/proc/self/status``). The target: under 300 MB at every size.

    python benchmarks/bench_redact.py [--sizes 20000,100000] [--traffic hostile,chat] [--limit-mb 300]

Exits with status 1 when a run peaks at or above ``--limit-mb``, or fails (exit status 2 or a
crash). The status column is ``redact``'s own: 1 when its check found an original value still
in the copy (then nothing was written; the whole run, check included, was still measured).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_memory import generate, peak_rss_mb  # (also puts tests/ on sys.path)

DEFAULT_SIZES = (20_000, 100_000)
TRAFFIC = ("hostile", "chat")
# The committed corpus files whose flows are readable (the others are damaged on purpose).
HOSTILE_FILES = ("binary-bodies.flows", "invalid-utf8.flows", "lone-surrogates.flows", "control-chars.flows")


def _retag(data: bytes, pos: int, change: Callable[[bytes], bytes]) -> tuple[bytes, int]:
    """The tnetstring value at ``pos`` with ``change`` applied to every string in it (as bytes:
    the corpus holds strings that are not UTF-8), and the position after it."""
    colon = data.index(b":", pos)
    size = int(data[pos:colon])
    body, tag = data[colon + 1 : colon + 1 + size], data[colon + 1 + size : colon + 2 + size]
    if tag in (b",", b";"):
        body = change(body)
    elif tag in (b"]", b"}"):
        parts, p = [], 0
        while p < len(body):
            part, p = _retag(body, p, change)
            parts.append(part)
        body = b"".join(parts)
    return b"%d:%s%s" % (len(body), body, tag), colon + 2 + size


def generate_hostile(path: Path, n: int) -> None:
    """Write ``n`` flows of the hostile corpus to ``path``: its readable flows, repeated, the
    e-mail addresses and flow ids of copy ``k`` carrying ``k``."""
    from hostile import corpus

    files = corpus.small_corpus()
    flows: list[bytes] = []
    for name in HOSTILE_FILES:
        data, pos = files[name], 0
        while pos < len(data):
            colon = data.index(b":", pos)
            end = colon + 2 + int(data[pos:colon])
            flows.append(data[pos:end])
            pos = end
    with open(path, "wb") as fh:
        for i in range(n):
            k = i // len(flows)
            tag, ids = b"u%d.example.org" % k, b"%08x-0000-4000-" % k

            def change(b: bytes, tag: bytes = tag, ids: bytes = ids) -> bytes:
                return b.replace(b"example.org", tag).replace(b"00000000-0000-4000-", ids)

            fh.write(_retag(flows[i % len(flows)], 0, change)[0])


def _child(capture: str, output: str) -> None:
    """Run ``auditor redact`` in this process and print one JSON line of figures."""
    from auditor.cli import main

    t0 = time.perf_counter()
    code = 0
    try:
        main(["redact", capture, "-o", output, "-q"])
    except SystemExit as e:
        code = int(e.code or 0)
    print(json.dumps({"seconds": time.perf_counter() - t0, "peak_rss_mb": peak_rss_mb(), "status": code}))


def measure(capture: Path, output: Path) -> dict[str, float]:
    """Redact ``capture`` in a fresh subprocess; return its figures."""
    out = subprocess.run([sys.executable, __file__, "--child", str(capture), str(output)], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--sizes", default=",".join(str(n) for n in DEFAULT_SIZES), help="comma-separated exchange counts")
    ap.add_argument("--traffic", default=",".join(TRAFFIC), help="comma-separated: hostile, chat")
    ap.add_argument("--limit-mb", type=float, default=300.0, help="fail when a peak reaches this")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(*args.child)
        return
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    kinds = [t.strip() for t in args.traffic.split(",") if t.strip()]
    if any(t not in TRAFFIC for t in kinds):
        ap.error(f"--traffic: one or more of {', '.join(TRAFFIC)}")
    print(f"{'traffic':>8}{'exchanges':>10}{'capture':>11}{'seconds':>9}{'peak RSS':>11}{'status':>8}")
    worst = 0.0
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            for kind in kinds:
                capture = Path(tmp) / f"redact-{kind}-{n}.flows"
                (generate_hostile if kind == "hostile" else generate)(capture, n)
                size_mb = capture.stat().st_size / 2**20
                r = measure(capture, Path(tmp) / f"redact-{kind}-{n}.out.flows")
                worst = max(worst, r["peak_rss_mb"])
                failed = failed or r["status"] not in (0, 1)
                print(
                    f"{kind:>8}{n:>10,}{size_mb:>8.1f} MB{r['seconds']:>9.1f}{r['peak_rss_mb']:>8.0f} MB{r['status']:>8}",
                    flush=True,
                )
                capture.unlink()
    if failed:
        print("a redaction failed (exit status 2)", file=sys.stderr)
        sys.exit(1)
    if worst >= args.limit_mb:
        print(f"peak RSS {worst:.0f} MB reaches the {args.limit_mb:.0f} MB limit", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
