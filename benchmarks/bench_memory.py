"""Benchmark: peak memory of ``auditor report`` and ``auditor check`` as the capture grows.

Generates captures of realistic AI-chat traffic (the mix of ``bench_report.py``: chat requests
with prompts, analytics events, crash reports, static assets; written here from flow states
directly, which is ten times faster than building mitmproxy flows) of each size, then runs, each
in a fresh subprocess that reads its own peak resident set size (``VmHWM`` from
``/proc/self/status``) at exit, so the figures do not mix:

- ``report``: ``auditor report --format html,json,md``;
- ``check``: ``auditor check --policy examples/policy.yaml --junit --markdown --json``.

The traffic reaches many hosts (``--hosts``, default 1,500: analytics and CDN hosts vary), so
what the reports keep per destination is measured too. The target: under 300 MB at every size,
and no growth with the size of the capture. Also prints the size of the HTML report (the issue's
limit: under 2 MB at 100,000 exchanges).

    python benchmarks/bench_memory.py [--sizes 10000,50000,100000] [--commands report,check] [--limit-mb 300]

Exits with status 1 when a run peaks at or above ``--limit-mb``.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import gzip
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_SIZES = (10_000, 50_000, 100_000)
DEFAULT_HOSTS = 1_500
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from support.memory import peak_rss_mb  # noqa: E402  (the child's own VmHWM)

POLICY = ROOT / "examples" / "policy.yaml"

WORDS = ["the", "my", "how", "what", "renew", "passport", "landlord", "contract", "doctor", "tax", "visa", "salary", "email", "phone", "lawyer"]


def generate(path: Path, n: int, seed: int = 7, hosts: int = DEFAULT_HOSTS) -> None:
    """Write ``n`` HTTP flows of mixed AI-chat traffic to ``path`` (mitmproxy flow file format),
    reaching about ``hosts`` different hosts (analytics and CDN hosts vary)."""
    from mitmproxy.test import tflow

    from auditor.live import tnetstring_dumps

    template = tflow.tflow(resp=True).get_state()
    rnd = random.Random(seed)
    with open(path, "wb") as fh:
        for i in range(n):
            state = copy.copy(template)
            req = state["request"] = dict(template["request"])
            resp = state["response"] = dict(template["response"])
            state["id"] = f"00000000-0000-4000-8000-{i:012d}"
            kind = i % 5
            prompt = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(5, 40)))
            headers = [(b"user-agent", b"bench/1.0"), (b"authorization", b"Bearer sk-bench-" + str(i % 7).encode() * 24)]
            body: bytes = b""
            if kind == 0:
                host, target = "chat.deepseek.com", "/api/v0/chat/completion"
                body = json.dumps({"chat_session_id": f"{i:08x}-aaaa-bbbb-cccc-000000000000", "prompt": prompt,
                                   "ref_file_ids": [], "thinking_enabled": False}).encode()
                rbody = "".join(f'data: {{"v": "{w}"}}\n\n' for w in prompt.split()[:10]).encode()
                rtype = "text/event-stream"
            elif kind == 1:
                host, target = "api.openai.com", "/v1/chat/completions"
                body = json.dumps({"model": "gpt-4o", "messages": [{"role": "system", "content": "Be brief."},
                                   {"role": "user", "content": prompt}], "user": f"user-{i % 97}"}).encode()
                rbody = json.dumps({"choices": [{"message": {"role": "assistant", "content": prompt}}]}).encode()
                rtype = "application/json"
            elif kind == 2:
                host = "mcs.volceapplog.com" if i % 3 else f"t{(i // 5) % max(1, hosts // 2)}.tracker-example.net"
                target = "/list"
                body = json.dumps({"header": {"device_id": str(7000000000 + i % 13), "os_version": "14", "device_model": "Pixel 8"},
                                   "event_v3": [{"event": "send_message", "params": json.dumps({"prompt_text": prompt, "len": len(prompt)})}]}).encode()
                rbody, rtype = b'{"e": 0}', "application/json"
            elif kind == 3:
                host, target = "o450.ingest.sentry.io", "/api/1/envelope/"
                env = "\n".join([json.dumps({"event_id": f"{i:032x}"}), json.dumps({"type": "event"}),
                                 json.dumps({"user": {"email": f"user{i % 50}@example.org"}, "message": "crash"})])
                body = gzip.compress(env.encode(), mtime=0)
                headers.append((b"content-encoding", b"gzip"))
                rbody, rtype = b"{}", "application/json"
            else:
                host, target = f"cdn{(i // 5) % max(1, hosts // 2)}.example-static.com", f"/assets/app.{i}.js"
                rbody, rtype = b"console.log(1);" * 50, "application/javascript"
            if body and kind != 3:
                headers.append((b"content-type", b"application/json"))
            req.update(host=host, port=443, scheme=b"https", path=target.encode(), method=b"POST" if body else b"GET",
                       headers=[(b"host", host.encode()), *headers], content=body)
            resp.update(headers=[(b"content-type", rtype.encode())], content=rbody)
            fh.write(tnetstring_dumps(state))


def _child(command: str, capture: str, outdir: str) -> None:
    """Run one ``auditor`` command in this process and print one JSON line of figures."""
    from auditor.cli import main

    t0 = time.perf_counter()
    stem = os.path.join(outdir, f"mem-{command}")
    if command == "report":
        args = ["report", capture, "-o", stem, "--format", "html,json,md", "-q"]
    else:
        args = ["check", capture, "--policy", str(POLICY), "--junit", stem + ".xml", "--markdown", stem + ".md",
                "--json", stem + ".json", "-q"]
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):  # check prints its verdict
        try:
            main(args)
        except SystemExit as e:
            if e.code not in (0, 1, None):  # check exits 1 on violations
                raise
    elapsed = time.perf_counter() - t0
    peak = peak_rss_mb()
    with open(stem + ".json", "rb") as fh:
        doc = json.load(fh)
    summary = doc["summary"]
    print(
        json.dumps(
            {
                "command": command,
                "exchanges": summary["exchanges"],
                "destinations": summary["destinations"],
                "findings": summary["findings"],
                "violations": (doc.get("check") or {}).get("summary", {}).get("violations", 0),
                "seconds": elapsed,
                "peak_rss_mb": peak,
                "json_mb": os.path.getsize(stem + ".json") / 2**20,
                "html_mb": os.path.getsize(stem + ".html") / 2**20 if command == "report" else 0.0,
            }
        )
    )


def measure(command: str, capture: Path, outdir: Path) -> dict[str, float]:
    """Run ``command`` on ``capture`` in a fresh subprocess; return its figures."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", command, str(capture), str(outdir)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--sizes", default=",".join(str(n) for n in DEFAULT_SIZES), help="comma-separated exchange counts")
    ap.add_argument("--commands", default="report,check", help="comma-separated: report, check")
    ap.add_argument("--hosts", type=int, default=DEFAULT_HOSTS, help="about how many hosts the traffic reaches")
    ap.add_argument("--limit-mb", type=float, default=300.0, help="fail when a peak reaches this")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(*args.child)
        return
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    commands = [c.strip() for c in args.commands.split(",") if c.strip()]
    print(f"{'command':>8}{'exchanges':>10}{'capture':>11}{'hosts':>7}{'findings':>10}{'seconds':>9}{'peak RSS':>11}{'JSON':>9}{'HTML':>10}")
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            capture = Path(tmp) / f"mem-{n}.flows"
            generate(capture, n, hosts=args.hosts)
            size_mb = capture.stat().st_size / 2**20
            for command in commands:
                r = measure(command, capture, Path(tmp))
                assert r["exchanges"] == n, r
                worst = max(worst, r["peak_rss_mb"])
                html = f"{r['html_mb']:>7.2f} MB" if command == "report" else f"{'-':>10}"
                print(
                    f"{command:>8}{n:>10,}{size_mb:>8.1f} MB{r['destinations']:>7,}{r['findings']:>10,.0f}{r['seconds']:>9.1f}"
                    f"{r['peak_rss_mb']:>8.0f} MB{r['json_mb']:>6.0f} MB{html}",
                    flush=True,
                )
            capture.unlink()
    if worst >= args.limit_mb:
        print(f"peak RSS {worst:.0f} MB reaches the {args.limit_mb:.0f} MB limit", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
