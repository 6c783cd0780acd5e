"""Benchmark: ``auditor browse`` wall time, and what the page instrumentation costs a page load.

Serves the browse tests' sites (``tests/browse_site``: the tracking chat page with the real
rrweb SDK, installed by ``npm ci`` from the pinned lock file) on loopback, then:

- ``browse``: the whole ``auditor browse https://chat.example.test/ --prompt ...`` command
  (proxy, Chromium, canary, one prompt, settle, reports), timed end to end, ``--repeat`` times;
- ``load``: in one Chromium behind one auditing proxy, the tracking page loaded ``--loads``
  times with the instrumentation and as many times without, alternating, each in a fresh
  browser context; the load time is the page's own Navigation Timing (``loadEventEnd``).
  The ratio of the medians is the instrumentation's cost on page load.

    python benchmarks/bench_browse.py [--loads 20] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "tests" / "browse_site"
sys.path.insert(0, str(ROOT))


def _server(work: Path) -> Any:
    import importlib.util

    from fixtures.record import _self_signed_context

    for name in ("package.json", "package-lock.json"):
        shutil.copy(SITE / name, work / name)
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=work, check=True, capture_output=True, timeout=600)
    spec = importlib.util.spec_from_file_location("browse_site_server", SITE / "server.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.Site(work / "node_modules" / "rrweb" / "dist" / "rrweb.umd.min.cjs", _self_signed_context(work))


def bench_browse(site: Any, work: Path, repeat: int) -> list[float]:
    maps = [a for m in site.maps() for a in ("--map", m)]
    times = []
    for i in range(repeat):
        out = work / f"browse-{i}"
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "auditor", "browse", "https://chat.example.test/", *maps, "--upstream-insecure", "--block-unmapped",
             "--prompt", "Plan a weekend in Lisbon for two", "-o", str(out), "--confdir", str(work / "conf"), "-q"],
            capture_output=True, text=True, timeout=600,
        )
        times.append(time.perf_counter() - started)
        if proc.returncode != 0:
            raise SystemExit(f"auditor browse failed: {proc.stderr.strip().splitlines()[-1]}")
    return times


def bench_loads(site: Any, work: Path, loads: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    from auditor.browse.chromium import find_chromium, launch_args
    from auditor.browse.driver import BrowseLog, instrumentation
    from auditor.live import LiveAuditor
    from auditor.live.proxy import ProxyConfig, ProxyThread

    addon = LiveAuditor()
    options = {"audit_dir": str(work / "loads"), "audit_map": site.maps(), "audit_block_unmapped": True, "audit_formats": "json"}
    runner = ProxyThread(ProxyConfig(confdir=str(work / "conf"), ssl_insecure=True, options=options), [addon])
    proxy = runner.start()
    script = instrumentation()
    out: dict[str, list[float]] = {"with": [], "without": []}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=find_chromium(), headless=True, proxy={"server": proxy.url}, args=launch_args(proxy.ca_file))
            for i in range(2 * loads + 2):
                mode = "with" if i % 2 == 0 else "without"
                context = browser.new_context()
                if mode == "with":
                    log = BrowseLog()
                    context.expose_binding("__auditorEvent", lambda source, payload, log=log: log.page(payload))
                    context.add_init_script(script=script)
                page = context.new_page()
                page.goto("https://chat.example.test/", wait_until="load")
                timing = page.evaluate("(() => { const n = performance.getEntriesByType('navigation')[0]; return n.loadEventEnd - n.startTime; })()")
                context.close()
                if i >= 2:  # the first pair warms the proxy's certificates and Chromium up
                    out[mode].append(float(timing))
            browser.close()
    finally:
        runner.stop()
        addon.finish()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--loads", type=int, default=20, help="page loads with and without the instrumentation (each)")
    ap.add_argument("--repeat", type=int, default=3, help="whole auditor browse runs")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with _server(work) as site:
            loads = bench_loads(site, work, args.loads)
            runs = bench_browse(site, work, args.repeat)
    med = {k: statistics.median(v) for k, v in loads.items()}
    result = {
        "browse_seconds": [round(t, 2) for t in runs],
        "browse_median_s": round(statistics.median(runs), 2),
        "load_ms_median": {k: round(v, 1) for k, v in med.items()},
        "load_ms_all": {k: [round(x, 1) for x in v] for k, v in loads.items()},
        "instrumentation_cost": round(med["with"] / med["without"] - 1, 3),
    }
    print(f"auditor browse (proxy, Chromium, canary, 1 prompt, reports): median {result['browse_median_s']} s over {len(runs)} runs {result['browse_seconds']}")
    print(f"page load with instrumentation:    median {med['with']:.1f} ms ({len(loads['with'])} loads)")
    print(f"page load without instrumentation: median {med['without']:.1f} ms ({len(loads['without'])} loads)")
    print(f"instrumentation cost on page load: {100 * result['instrumentation_cost']:+.1f}%")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
