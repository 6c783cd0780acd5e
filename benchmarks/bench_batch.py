"""Benchmark: ``auditor batch`` scaling, Dask's overhead, and DuckDB against JSON reports.

Generates ``--captures`` captures (default 200) of ``--exchanges`` exchanges each (default 500)
of mixed AI-chat traffic (the generator of ``bench_report.py``), spread over apps of five
versions each, then runs, each as a fresh ``auditor batch`` process into a fresh dataset:

- ``-j 1`` and ``-j 2``: throughput with one and two worker processes; scaling efficiency is
  ``(t1 / t2) / 2``;
- ``-j 2`` against ``--dask local:2``: Dask's overhead is ``t_dask / t_local - 1``;
- a cross-app summary (which apps send which data categories to which companies) with DuckDB over
  the Parquet dataset, against the same summary computed by reading one ``auditor report`` JSON
  per capture (written once, beforehand, by ``auditor report -f json``);
- the peak memory of every worker process, from its own ``VmHWM``, sampled while it runs.

    python benchmarks/bench_batch.py [--captures 200] [--exchanges 500]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from bench_report import generate  # noqa: E402
from support.memory import descendants, watch_peaks  # noqa: E402


def run_batch(inputs: Path, out: Path, *args: str) -> tuple[float, float]:
    """(seconds, peak VmHWM in MB of any worker process) of one auditor batch run."""
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "auditor", "batch", str(inputs), "-o", str(out), "-q", *args])
    peaks = watch_peaks(proc, 0.2, pids=lambda: descendants(proc.pid))  # the workers, not the parent
    code = proc.wait()
    seconds = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"auditor batch {' '.join(args)} exited {code}")
    return seconds, max(peaks.values(), default=0) / 1024


def summary_duckdb(dataset: Path) -> tuple[float, int]:
    from auditor.batch.query import query

    started = time.perf_counter()
    _, rows = query(dataset, """
        SELECT app, owner, category, count(*) AS n
        FROM (SELECT app, owner, unnest(data_categories) AS category FROM destinations WHERE owner IS NOT NULL)
        GROUP BY ALL""")
    return time.perf_counter() - started, len(rows)


def summary_json(reports: Path) -> tuple[float, int]:
    started = time.perf_counter()
    counts: dict[tuple[str, str, str], int] = defaultdict(int)
    for f in sorted(reports.glob("*/*.json")):
        doc = json.loads(f.read_text())
        for d in doc["destinations"]:
            owner = (d.get("owner") or {}).get("name")
            if owner:
                for c in d["data_categories"]:
                    counts[(f.parent.name, owner, c)] += 1
    return time.perf_counter() - started, len(counts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--captures", type=int, default=200)
    ap.add_argument("--exchanges", type=int, default=500)
    ap.add_argument("--keep", type=Path, help="keep the generated captures and datasets here")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    work = args.keep or Path(tmp.name)
    inputs = work / "captures"
    if not inputs.is_dir():
        for i in range(args.captures):
            path = inputs / f"app{i // 5:03d}" / f"v1.{i % 5}.flows"
            path.parent.mkdir(parents=True, exist_ok=True)
            generate(path, args.exchanges, seed=i)
    total = args.captures * args.exchanges
    t1, m1 = run_batch(inputs, work / "ds-j1", "-j", "1")
    t2, m2 = run_batch(inputs, work / "ds-j2", "-j", "2")
    td, md = run_batch(inputs, work / "ds-dask", "--dask", "local:2")
    reports = work / "reports"
    if not reports.is_dir():
        for f in sorted(inputs.glob("*/*.flows")):
            out = reports / f.parent.name / (f.stem + ".json")
            out.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run([sys.executable, "-m", "auditor", "report", str(f), "-f", "json", "-o", str(out), "-q"], check=True)
    sd, nd = summary_duckdb(work / "ds-j2")
    sj, nj = summary_json(reports)
    result = {
        "captures": args.captures, "exchanges": total,
        "seconds": {"j1": round(t1, 1), "j2": round(t2, 1), "dask_local_2": round(td, 1)},
        "exchanges_per_s": {"j1": round(total / t1), "j2": round(total / t2), "dask_local_2": round(total / td)},
        "scaling_efficiency": round((t1 / t2) / 2, 3),
        "dask_overhead": round(td / t2 - 1, 3),
        "worker_peak_mb": {"j1": round(m1), "j2": round(m2), "dask_local_2": round(md)},
        "summary_seconds": {"duckdb": round(sd, 3), "json_reports": round(sj, 3)}, "summary_rows": {"duckdb": nd, "json": nj},
    }
    print(f"{args.captures} captures, {total:,} exchanges")
    for k in ("j1", "j2", "dask_local_2"):
        print(f"  {k:13} {result['seconds'][k]:8.1f} s  {result['exchanges_per_s'][k]:7,} exchanges/s  worker peak {result['worker_peak_mb'][k]} MB")
    print(f"  scaling efficiency 1 -> 2 processes: {result['scaling_efficiency']:.3f}")
    print(f"  Dask overhead (local:2 against -j 2): {100 * result['dask_overhead']:+.1f}%")
    print(f"  cross-app summary: DuckDB over Parquet {sd:.3f} s, reading {args.captures} JSON reports {sj:.3f} s ({sj / sd:.1f}x)")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
