"""Benchmark: ``auditor report`` throughput against mitmproxy's own ``FlowReader``.

Generates a capture of N exchanges (default 20,000) of realistic AI-chat traffic (chat requests
with prompts, analytics events, crash reports, static assets), then runs, each in a fresh
subprocess so peak memory is its own:

- ``flowreader``: ``mitmproxy.io.FlowReader(fh).stream()``, reading every flow (the reference);
- ``report``: the full ``auditor report`` command (read, decode, walk, classify, resolve,
  aggregate, write HTML and JSON).

Prints exchanges per second, the ratio report/flowreader, and the peak RSS of each (the child's
own ``VmHWM``). The runs alternate (flowreader, report, flowreader, report...), so load on a
shared machine affects both alike.

With ``--base DIR`` (another checkout of auditor, e.g. a ``git worktree`` of an earlier commit),
the same ``report`` also runs with that checkout's code, interleaved with this one's, and the
cost of the change is printed as a ratio of the two (best of each).

    python benchmarks/bench_report.py [--exchanges 20000] [--repeat 3] [--base ../base-worktree]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from support.memory import peak_rss_mb  # noqa: E402  (the child's own VmHWM)


def generate(path: Path, n: int, seed: int = 7) -> None:
    """Write ``n`` HTTP flows of mixed AI-chat traffic to ``path`` with mitmproxy's FlowWriter."""
    from mitmproxy import http
    from mitmproxy.io import FlowWriter
    from mitmproxy.test import tflow

    rnd = random.Random(seed)
    words = ["the", "my", "how", "what", "renew", "passport", "landlord", "contract", "doctor", "tax", "visa", "salary", "email", "phone", "lawyer"]
    with open(path, "wb") as fh:
        w = FlowWriter(fh)
        for i in range(n):
            kind = i % 5
            f = tflow.tflow(resp=True)
            prompt = " ".join(rnd.choice(words) for _ in range(rnd.randint(5, 40)))
            if kind == 0:
                host, path_, body = "chat.deepseek.com", "/api/v0/chat/completion", {
                    "chat_session_id": f"{i:08x}-aaaa-bbbb-cccc-000000000000",
                    "prompt": prompt,
                    "ref_file_ids": [],
                    "thinking_enabled": False,
                }
                resp = "".join(f'data: {{"v": "{w}"}}\n\n' for w in prompt.split()[:10]).encode()
                rtype = "text/event-stream"
            elif kind == 1:
                host, path_, body = "api.openai.com", "/v1/chat/completions", {
                    "model": "gpt-4o",
                    "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": prompt}],
                    "user": f"user-{i % 97}",
                }
                resp = json.dumps({"choices": [{"message": {"role": "assistant", "content": prompt}}]}).encode()
                rtype = "application/json"
            elif kind == 2:
                host, path_, body = "mcs.volceapplog.com", "/list", {
                    "header": {"device_id": str(7000000000 + i % 13), "os_version": "14", "device_model": "Pixel 8"},
                    "event_v3": [{"event": "send_message", "params": json.dumps({"prompt_text": prompt, "len": len(prompt)})}],
                }
                resp, rtype = b'{"e": 0}', "application/json"
            elif kind == 3:
                host, path_, body = "o450.ingest.sentry.io", "/api/1/envelope/", None
                resp, rtype = b"{}", "application/json"
            else:
                host, path_, body = "cdn.example-static.com", f"/assets/app.{i}.js", None
                resp, rtype = b"console.log(1);" * 50, "application/javascript"
            f.request.host = host
            f.request.port = 443
            f.request.scheme = "https"
            f.request.path = path_
            f.request.headers = http.Headers(
                [(b"host", host.encode()), (b"user-agent", b"bench/1.0"), (b"authorization", b"Bearer sk-bench-" + str(i % 7).encode() * 24)]
            )
            if kind == 3:
                env = "\n".join(
                    [json.dumps({"event_id": f"{i:032x}"}), json.dumps({"type": "event"}), json.dumps({"user": {"email": f"user{i % 50}@example.org"}, "message": "crash"})]
                )
                f.request.method = "POST"
                f.request.headers["content-encoding"] = "gzip"
                f.request.raw_content = gzip.compress(env.encode())
            elif body is not None:
                f.request.method = "POST"
                f.request.headers["content-type"] = "application/json"
                f.request.content = json.dumps(body).encode()
            else:
                f.request.method = "GET"
                f.request.content = b""
            f.response.headers = http.Headers([(b"content-type", rtype.encode())])
            f.response.content = resp
            w.add(f)


def _child(mode: str, capture: str, outdir: str) -> None:
    t0 = time.perf_counter()
    if mode == "flowreader":
        from mitmproxy.io import FlowReader

        with open(capture, "rb") as fh:
            count = sum(1 for _ in FlowReader(fh).stream())
    else:
        from auditor.cli import main

        try:
            main(["report", capture, "-o", os.path.join(outdir, "bench"), "--format", "html,json", "-q"])
        except SystemExit as e:
            if e.code:
                raise
        with open(os.path.join(outdir, "bench.json"), "rb") as fh:
            count = json.load(fh)["summary"]["exchanges"]
    elapsed = time.perf_counter() - t0
    print(json.dumps({"mode": mode, "count": count, "seconds": elapsed, "peak_rss_mb": peak_rss_mb()}))


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(mode: str, capture: Path, outdir: Path, base: str | None = None) -> dict:
    env = dict(os.environ, PYTHONPATH=base) if base else None  # the base checkout's auditor first
    cpu = _children_cpu()
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(capture), str(outdir)],
        capture_output=True,
        text=True,
        env=env,
    )
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise SystemExit(f"the {'base ' if base else ''}{mode} run exited {out.returncode}: {last}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["cpu"] = _children_cpu() - cpu  # the child's own CPU time (user + system), imports included
    return result


def _ratios(label: str, num: list[dict], den: list[dict]) -> None:
    """Per-round ratios of ``num``'s time to ``den``'s (wall and CPU), and their medians."""
    for key, what in (("seconds", "wall"), ("cpu", "CPU")):
        rounds = [a[key] / b[key] for a, b in zip(num, den, strict=True)]
        print(f"{label}, {what} time: median {statistics.median(rounds):.3f} "
              f"(per round: {', '.join(f'{r:.3f}' for r in rounds)})")


def check_base(base: Path) -> None:
    """A base checkout whose templates are in a top-level ``reports/`` folder (mapped to the
    package ``auditor.reports`` on install) would load this checkout's templates instead."""
    if (base / "reports").is_dir() and not (base / "auditor" / "reports").exists():
        raise SystemExit(
            f"{base}: its templates (reports/) would be loaded from this checkout; "
            f"link them first: ln -s ../reports {base / 'auditor' / 'reports'}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--exchanges", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each; the best time counts")
    ap.add_argument("--base", help="another auditor checkout to compare with (runs interleaved)")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(*args.child)
        return
    if args.base:
        check_base(Path(args.base).resolve())
    with tempfile.TemporaryDirectory() as tmp:
        capture = Path(tmp) / "bench.flows"
        t0 = time.perf_counter()
        generate(capture, args.exchanges)
        size_mb = capture.stat().st_size / 2**20
        print(f"generated {args.exchanges:,} exchanges ({size_mb:.1f} MiB) in {time.perf_counter() - t0:.1f} s")
        results = {}
        modes = ("flowreader", "report", "base") if args.base else ("flowreader", "report")
        all_runs: dict[str, list[dict]] = {m: [] for m in modes}
        for _ in range(args.repeat):  # interleaved, so load on the machine affects each alike
            for mode in modes:
                base = str(Path(args.base).resolve()) if mode == "base" else None
                all_runs[mode].append(run("report" if mode == "base" else mode, capture, Path(tmp), base))
        for mode, runs in all_runs.items():
            best = min(runs, key=lambda r: r["seconds"])
            assert best["count"] == args.exchanges, best
            best["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
            results[mode] = best
        ref = results["flowreader"]
        print(f"{'':28}{'exchanges/s':>12}{'seconds':>10}{'peak RSS':>11}{'ratio':>8}")
        for mode, label in (("flowreader", "mitmproxy FlowReader (read)"), ("report", "auditor report (full)")):
            r = results[mode]
            rate = r["count"] / r["seconds"]
            ratio = rate / (ref["count"] / ref["seconds"])
            print(f"{label:28}{rate:12,.0f}{r['seconds']:10.2f}{r['peak_rss_mb']:9.0f} MB{ratio:8.2f}")
        if args.base:
            b = results["base"]
            print(f"{'auditor report (--base)':28}{b['count'] / b['seconds']:12,.0f}{b['seconds']:10.2f}{b['peak_rss_mb']:9.0f} MB")
            print(f"this checkout / base: {results['report']['seconds'] / b['seconds']:.3f} of the time "
                  f"(best of {args.repeat} each; per-round ratios: "
                  + ", ".join(f"{r['seconds'] / q['seconds']:.3f}" for r, q in zip(all_runs["report"], all_runs["base"], strict=False))
                  + ")")
            _ratios("this checkout / base", all_runs["report"], all_runs["base"])
        _ratios("auditor report / FlowReader", all_runs["report"], all_runs["flowreader"])


if __name__ == "__main__":
    main()
