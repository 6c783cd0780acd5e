"""Benchmark: peak memory and time of ``auditor redact`` as the capture grows.

Generates the captures of ``bench_memory.py`` (realistic AI-chat traffic: prompts, analytics
events, crash reports, assets) and runs ``auditor redact`` on each in a fresh subprocess,
which reports its own peak resident set size (``VmHWM`` from ``/proc/self/status``). The
target: under 300 MB at every size.

    python benchmarks/bench_redact.py [--sizes 20000,100000] [--limit-mb 300]

Exits with status 1 when a run peaks at or above ``--limit-mb``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_memory import generate, peak_rss_mb

DEFAULT_SIZES = (20_000, 100_000)


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
    ap.add_argument("--limit-mb", type=float, default=300.0, help="fail when a peak reaches this")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(*args.child)
        return
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    print(f"{'exchanges':>10}{'capture':>11}{'seconds':>9}{'peak RSS':>11}{'status':>8}")
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            capture = Path(tmp) / f"redact-{n}.flows"
            generate(capture, n)
            size_mb = capture.stat().st_size / 2**20
            r = measure(capture, Path(tmp) / f"redact-{n}.out.flows")
            worst = max(worst, r["peak_rss_mb"])
            print(f"{n:>10,}{size_mb:>8.1f} MB{r['seconds']:>9.1f}{r['peak_rss_mb']:>8.0f} MB{r['status']:>8}", flush=True)
            capture.unlink()
    if worst >= args.limit_mb:
        print(f"peak RSS {worst:.0f} MB reaches the {args.limit_mb:.0f} MB limit", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
