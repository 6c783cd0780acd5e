"""Benchmark: the audit addon's cost inside mitmproxy, against plain ``mitmdump``.

Everything runs on this machine over loopback, each part in its own process:

- ``backend``: a minimal HTTP/1.1 keep-alive server (raw asyncio) answering every request with
  a small JSON body;
- ``mitmdump`` twice, same options, one of them with ``-s addons/privacy_audit.py`` writing its
  capture and reports into a temporary folder;
- ``client``: the load generator, one process with N keep-alive connections (default 200), each
  sending AI-chat API requests (a JSON body with a prompt and an email address) through the
  proxy with absolute-form URLs, as HTTP clients configured with ``HTTP_PROXY`` do.

Each proxy gets the same two loads in the same run:

1. ``saturation``: every connection sends its next request as soon as the previous answer is
   in (closed loop) for ``--seconds``: requests per second is the proxy's capacity, and the
   latencies are mostly queueing (200 requests in flight divided by the throughput);
2. ``fixed rate``: the same connections send ``--rate-fraction`` (default 0.5) of plain
   mitmdump's capacity in total, each on its own schedule (Poisson arrivals, the same for
   both proxies; ``--arrivals periodic`` for exact periods); latency is measured from the
   scheduled send time, so a stalled proxy cannot hide it (no coordinated omission).

The proxies alternate (plain, addon, plain, addon... ``--repeat`` rounds) and the median of the
rounds counts; for the fixed-rate latencies the percentiles of all rounds' requests together
(pooled) are given too, as one round's tail depends a lot on where mitmproxy's own pauses fall.
With pinning (2 or more CPUs, the default) the proxy runs on CPU 0 and the load on the others;
the addon's analysis process is moved to the load's CPUs (it would otherwise inherit CPU 0),
and its CPU time is reported separately from the proxy's. Then the addon's proxy is stopped with SIGINT, and the exchanges in its
``capture.flows`` are counted against the requests the clients completed ("no exchange lost").
The client's own capacity straight to the backend is measured too, to show that the load
generator is not the bottleneck.

    python benchmarks/bench_proxy.py [--seconds 10] [--connections 200] [--repeat 2] [--json FILE]

Only 127.0.0.1 is used; the run is bounded by ``--seconds`` and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))

from support.ports import free_port  # noqa: E402

ADDON = ROOT / "addons" / "privacy_audit.py"
LOOPBACK = "127.0.0.1"

RESPONSE_BODY = json.dumps(
    {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Noted, see you Tuesday."}}],
    }
).encode()

PROMPT = (
    "My date of birth is 14 March 1990 and my email is jane.doe@example.org. "
    "Draft a two-line reply confirming my GP appointment on Tuesday."
)


# --------------------------------------------------------------------------------------------
# Backend: HTTP/1.1 keep-alive, one fixed answer
# --------------------------------------------------------------------------------------------


class _BackendProtocol(asyncio.Protocol):
    """Parses pipelined HTTP/1.1 requests with Content-Length bodies and answers each."""

    answer = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nServer: bench\r\n"
        b"Content-Length: " + str(len(RESPONSE_BODY)).encode() + b"\r\n\r\n" + RESPONSE_BODY
    )

    def __init__(self) -> None:
        self.buf = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            length = 0
            for line in self.buf[:end].split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            total = end + 4 + length
            if len(self.buf) < total:
                return
            self.buf = self.buf[total:]
            assert self.transport is not None
            self.transport.write(self.answer)


async def _backend_main(port_file: Path) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_BackendProtocol, LOOPBACK, 0, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    port_file.write_text(str(port))
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()
    server.close()


# --------------------------------------------------------------------------------------------
# Client: N keep-alive connections through the proxy
# --------------------------------------------------------------------------------------------


def _request_bytes(target: str, index: int, seq: int = 0, unique: bool = True) -> bytes:
    """Connection ``index``'s request number ``seq``: the same user each time and, with
    ``unique``, a prompt of its own (as chat traffic has), else the same prompt for all."""
    prompt = f"{PROMPT} (conversation {index}, message {seq})" if unique else PROMPT
    body = json.dumps(
        {
            "model": "gpt-4o-mini",
            "messages": [
                {"role": "system", "content": "You are a concise assistant."},
                {"role": "user", "content": prompt},
            ],
            "user": f"user-{index}",
        }
    ).encode()
    head = (
        f"POST http://{target}/v1/chat/completions HTTP/1.1\r\nHost: {target}\r\n"
        f"Content-Type: application/json\r\nAuthorization: Bearer sk-bench-0000000000000000\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


class _Phase:
    """Counters for one measured period."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.errors = 0
        self.statuses: dict[int, int] = {}


async def _connection(
    proxy: tuple[str, int], target: str, index: int, stop_at: float, measure_from: float,
    period: float | None, offset: float, phase: _Phase, completed: list[int], unique: bool = True,
    poisson: bool = False,
) -> None:
    """One keep-alive connection: closed loop (``period`` None) or one request every ``period``
    on average: exactly (periodic) or with exponential gaps (Poisson arrivals, seeded by the
    connection's index so that every proxy gets the same schedule)."""
    rng = random.Random(index)
    try:
        reader, writer = await asyncio.open_connection(*proxy, limit=1 << 20)
    except OSError:
        phase.errors += 1
        return
    loop = asyncio.get_running_loop()
    scheduled = loop.time() + offset
    try:
        while True:
            if period is not None:
                delay = scheduled - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                start = scheduled
                scheduled += rng.expovariate(1 / period) if poisson else period
            else:
                start = loop.time()
            if start >= stop_at:
                break
            writer.write(_request_bytes(target, index, completed[0], unique))
            status = await _read_response(reader)
            done = loop.time()
            completed[0] += 1
            if start >= measure_from:
                phase.latencies.append(done - start)
                phase.statuses[status] = phase.statuses.get(status, 0) + 1
    except (OSError, asyncio.IncompleteReadError, ValueError):
        phase.errors += 1
    finally:
        writer.close()


async def _client_main(proxy: tuple[str, int], target: str, connections: int, seconds: float, warmup: float,
                       rate: float | None, unique: bool = True, poisson: bool = False) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    measure_from = t0 + warmup
    stop_at = measure_from + seconds
    phase = _Phase()
    completed = [0]
    period = connections / rate if rate else None
    tasks = [
        _connection(proxy, target, i, stop_at, measure_from, period, (period or 0) * i / connections, phase, completed, unique,
                    poisson)
        for i in range(connections)
    ]
    await asyncio.gather(*tasks)
    lat = sorted(phase.latencies)
    ok = sum(n for s, n in phase.statuses.items() if s == 200)
    return {
        "completed": completed[0],
        "measured": len(lat),
        "ok": ok,
        "errors": phase.errors,
        "statuses": {str(k): v for k, v in phase.statuses.items()},
        "rps": len(lat) / seconds,
        "p50_ms": _percentile(lat, 50) * 1000,
        "p99_ms": _percentile(lat, 99) * 1000,
        "max_ms": (lat[-1] if lat else 0.0) * 1000,
        "latencies_ms": [round(x * 1000, 3) for x in lat],
    }


def _percentile(sorted_values: Sequence[float], pct: float) -> float:
    if not sorted_values:
        return 0.0
    k = min(len(sorted_values) - 1, max(0, round(pct / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[k]


# --------------------------------------------------------------------------------------------
# Orchestration
# --------------------------------------------------------------------------------------------


def _wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        try:
            socket.create_connection((LOOPBACK, port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port} after {timeout:.0f} s")


def _pin(cpus: set[int] | None) -> Any:
    """A ``preexec_fn`` pinning the child to ``cpus`` (or nothing)."""
    if not cpus:
        return None
    return lambda: os.sched_setaffinity(0, cpus)


class Proxy:
    """A ``mitmdump`` subprocess, plain or with the audit addon."""

    def __init__(self, work: Path, with_addon: bool, cpus: set[int] | None, helper_cpus: set[int] | None = None) -> None:
        self.port = free_port(LOOPBACK)
        self.out = work / "audit"
        self.with_addon = with_addon
        mitmdump = Path(sys.executable).with_name("mitmdump")
        args = [str(mitmdump), "-q", "--listen-host", LOOPBACK, "--listen-port", str(self.port),
                "--set", f"confdir={work / 'conf'}"]
        if with_addon:
            args += ["-s", str(ADDON), "--set", f"audit_dir={self.out}"]
        self.stderr = open(work / ("addon.log" if with_addon else "plain.log"), "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=self.stderr, preexec_fn=_pin(cpus))
        _wait_port(self.port, self.proc)
        # The addon's analysis process (a child of the proxy) inherits the proxy's CPU; it is
        # moved to the load's CPUs, as the scheduler would put it on a free core.
        self.children = _children(self.proc.pid) if with_addon else []
        if helper_cpus:
            for pid in self.children:
                with contextlib.suppress(OSError):
                    os.sched_setaffinity(pid, helper_cpus)

    def cpu_seconds(self) -> float:
        """User and system CPU time the proxy process (all its threads) used so far."""
        return _cpu_seconds(self.proc.pid)

    def helper_cpu_seconds(self) -> float:
        """CPU time of the proxy's child processes (the addon's analysis) so far."""
        return sum(_cpu_seconds(pid) for pid in self.children)

    def rss_mb(self) -> float:
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    def stop(self) -> float:
        """SIGINT (the addon then writes its capture and reports); seconds until it exited."""
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(120)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.stderr.close()
        return time.monotonic() - t0


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _children(parent: int, wait: float = 10.0) -> list[int]:
    """The processes whose parent is ``parent`` (waiting a little for a first one)."""
    deadline = time.monotonic() + wait
    while True:
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    ppid = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                if ppid == parent:
                    found.append(int(entry.name))
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def _run_client(proxy_port: int, target: str, args: argparse.Namespace, rate: float | None,
                cpus: set[int] | None, seconds: float) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "client", "--proxy", f"{LOOPBACK}:{proxy_port}", "--target", target,
           "--connections", str(args.connections), "--seconds", str(seconds), "--warmup", str(args.warmup),
           "--prompts", args.prompts, "--arrivals", args.arrivals]
    if rate:
        cmd += ["--rate", str(rate)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + args.warmup + 120, preexec_fn=_pin(cpus),
                         check=True)
    return json.loads(out.stdout)


def count_flows(path: Path) -> tuple[int, int]:
    """(flows in a capture file, of which with an error)."""
    from mitmproxy.exceptions import FlowReadException
    from mitmproxy.io import FlowReader

    n = errors = 0
    with path.open("rb") as fh:
        try:
            for flow in FlowReader(fh).stream():
                n += 1
                errors += flow.error is not None
        except FlowReadException:
            pass
    return n, errors


def _median(rows: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd")
    b = sub.add_parser("backend", help=argparse.SUPPRESS)
    b.add_argument("--port-file", type=Path, required=True)
    c = sub.add_parser("client", help=argparse.SUPPRESS)
    c.add_argument("--proxy", required=True)
    c.add_argument("--target", required=True)
    c.add_argument("--rate", type=float, default=None)
    c.add_argument("--prompts", choices=("unique", "same"), default="unique")
    c.add_argument("--arrivals", choices=("poisson", "periodic"), default="poisson")
    for p in (ap, c):
        p.add_argument("--seconds", type=float, default=10.0, help="measured seconds per load and proxy (default 10)")
        p.add_argument("--connections", type=int, default=200, help="concurrent client connections (default 200)")
        p.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before each measurement (default 2)")
    ap.add_argument("--repeat", type=int, default=2, help="rounds of plain/addon; the median counts (default 2)")
    ap.add_argument("--rate-fraction", type=float, default=0.5,
                    help="fixed-rate load as a fraction of plain mitmdump's capacity (default 0.5)")
    ap.add_argument("--no-pin", action="store_true", help="do not pin the proxy to CPU 0 and the load to the others")
    ap.add_argument("--prompts", choices=("unique", "same"), default="unique",
                    help="a new prompt in every request, as chat traffic has (default), or the same one in all")
    ap.add_argument("--arrivals", choices=("poisson", "periodic"), default="poisson",
                    help="fixed-rate load: Poisson arrivals per connection (default), or one request "
                         "exactly every period")
    ap.add_argument("--json", type=Path, help="also write the figures as JSON to this file")
    args = ap.parse_args(argv)

    if args.cmd == "backend":
        asyncio.run(_backend_main(args.port_file))
        return 0
    if args.cmd == "client":
        host, _, port = args.proxy.rpartition(":")
        result = asyncio.run(_client_main((host, int(port)), args.target, args.connections, args.seconds, args.warmup, args.rate,
                                          args.prompts == "unique", args.arrivals == "poisson"))
        print(json.dumps(result))
        return 0
    return _orchestrate(args)


def _orchestrate(args: argparse.Namespace) -> int:
    cpus = sorted(os.sched_getaffinity(0))
    pin = len(cpus) >= 2 and not args.no_pin
    proxy_cpus = {cpus[0]} if pin else None
    load_cpus = set(cpus[1:]) if pin else None
    results: dict[str, Any] = {
        "machine": {
            "cpus": len(cpus), "python": platform.python_version(), "platform": platform.platform(),
            "pinning": f"proxy on CPU {cpus[0]}; client, backend and the addon's analysis process on CPU "
                       f"{','.join(map(str, cpus[1:]))}" if pin else "none",
        },
        "connections": args.connections, "seconds": args.seconds, "warmup": args.warmup, "repeat": args.repeat,
        "prompts": args.prompts, "arrivals": args.arrivals, "load_average_before": os.getloadavg(),
    }
    with tempfile.TemporaryDirectory(prefix="bench-proxy-") as tmp:
        work = Path(tmp)
        port_file = work / "backend.port"
        backend = subprocess.Popen([sys.executable, __file__, "backend", "--port-file", str(port_file)],
                                   preexec_fn=_pin(load_cpus))
        try:
            deadline = time.monotonic() + 20
            while not port_file.exists() or not port_file.read_text():
                if time.monotonic() > deadline or backend.poll() is not None:
                    raise RuntimeError("the backend did not start")
                time.sleep(0.05)
            target = f"{LOOPBACK}:{port_file.read_text().strip()}"
            port = int(target.rpartition(":")[2])
            _say(f"backend on {target}; {args.connections} connections, {args.seconds:g} s per measurement")
            direct = _run_client(port, target.replace("http://", ""), args, None, load_cpus, min(args.seconds, 5.0))
            # The client talks to the backend directly with the same absolute-form requests.
            results["client_capacity_rps"] = direct["rps"]
            _say(f"load generator straight to the backend: {direct['rps']:.0f} req/s")
            rounds: dict[str, dict[str, list[dict[str, Any]]]] = {
                "plain": {"saturation": [], "fixed": []}, "addon": {"saturation": [], "fixed": []},
            }
            completed_addon = 0
            flows = flow_errors = 0
            stop_seconds: list[float] = []
            rss: list[float] = []
            for r in range(args.repeat):
                for name in ("plain", "addon"):
                    wd = work / f"{name}-{r}"
                    wd.mkdir()
                    proxy = Proxy(wd, name == "addon", proxy_cpus, load_cpus)
                    try:
                        cpu0, helper0 = proxy.cpu_seconds(), proxy.helper_cpu_seconds()
                        sat = _run_client(proxy.port, target, args, None, load_cpus, args.seconds)
                        sat["cpu_ms_per_request"] = (proxy.cpu_seconds() - cpu0) * 1000 / max(1, sat["completed"])
                        sat["helper_cpu_ms_per_request"] = (proxy.helper_cpu_seconds() - helper0) * 1000 / max(1, sat["completed"])
                        rounds[name]["saturation"].append(sat)
                        _say(f"round {r + 1} {name:5s} saturation: {sat['rps']:7.0f} req/s  p50 {sat['p50_ms']:7.1f} ms  "
                             f"p99 {sat['p99_ms']:7.1f} ms  errors {sat['errors']}")
                        # the same fixed rate for every round: a fraction of plain mitmdump's first capacity
                        rate = rounds["plain"]["saturation"][0]["rps"] * args.rate_fraction
                        cpu0 = proxy.cpu_seconds()
                        fix = _run_client(proxy.port, target, args, rate, load_cpus, args.seconds)
                        fix["cpu_ms_per_request"] = (proxy.cpu_seconds() - cpu0) * 1000 / max(1, fix["completed"])
                        fix["rate"] = rate
                        rounds[name]["fixed"].append(fix)
                        _say(f"round {r + 1} {name:5s} fixed {rate:5.0f}/s: {fix['rps']:7.0f} req/s  p50 {fix['p50_ms']:7.1f} ms  "
                             f"p99 {fix['p99_ms']:7.1f} ms  errors {fix['errors']}")
                        if name == "addon":
                            rss.append(proxy.rss_mb())
                            completed_addon += sat["completed"] + fix["completed"]
                    finally:
                        stop_seconds.append(proxy.stop())
                    if name == "addon":
                        for line in (wd / "addon.log").read_text(errors="replace").splitlines():
                            if "auditor" in line:
                                _say(f"  addon: {line.strip()}")
                        n, e = count_flows(proxy.out / "capture.flows")
                        flows += n
                        flow_errors += e
                        if not (proxy.out / "report.json").exists():
                            _say("the addon wrote no report.json")
                            results["report_missing"] = True
                        else:  # e.g. that the analysis fell behind and the proxy held flows back
                            report = json.loads((proxy.out / "report.json").read_text())
                            for warning in report["captures"][0]["warnings"]:
                                _say(f"  report warning: {warning}")
                                results.setdefault("report_warnings", []).append(warning)
        finally:
            backend.send_signal(signal.SIGTERM)
            backend.wait(10)
    summary = _summarise(rounds)
    summary["no_exchange_lost"] = {"client_completed": completed_addon, "in_capture": flows,
                                   "flows_with_error": flow_errors, "lost": completed_addon - flows}
    summary["addon_rss_mb_at_end"] = max(rss) if rss else 0.0
    results["machine"]["load_average_after"] = os.getloadavg()
    results.update(summary)
    results["rounds"] = {name: {load: [{k: v for k, v in r.items() if k != "latencies_ms"} for r in rs]
                                for load, rs in loads.items()} for name, loads in rounds.items()}
    _print_summary(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


def _summarise(rounds: dict[str, dict[str, list[dict[str, Any]]]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for load in ("saturation", "fixed"):
        row: dict[str, Any] = {}
        for name in ("plain", "addon"):
            rs = rounds[name][load]
            row[name] = {k: _median(rs, k) for k in ("rps", "p50_ms", "p99_ms", "cpu_ms_per_request")} | {"helper_cpu_ms_per_request": _median(rs, "helper_cpu_ms_per_request") if all("helper_cpu_ms_per_request" in x for x in rs) else 0.0} | {
                "errors": sum(x["errors"] for x in rs)}
        for name in ("plain", "addon"):
            # all rounds' latencies together: steadier than any one round's tail
            pooled = sorted(x for r in rounds[name][load] for x in r.get("latencies_ms", ()))
            row[name]["pooled_p50_ms"] = _percentile(pooled, 50)
            row[name]["pooled_p99_ms"] = _percentile(pooled, 99)
            row[name]["rounds_p99_ms"] = [round(r["p99_ms"], 1) for r in rounds[name][load]]
        row["added_pooled_p99_ms"] = row["addon"]["pooled_p99_ms"] - row["plain"]["pooled_p99_ms"]
        row["added_pooled_p50_ms"] = row["addon"]["pooled_p50_ms"] - row["plain"]["pooled_p50_ms"]
        row["throughput_ratio"] = row["addon"]["rps"] / row["plain"]["rps"] if row["plain"]["rps"] else 0.0
        row["added_p50_ms"] = row["addon"]["p50_ms"] - row["plain"]["p50_ms"]
        row["added_p99_ms"] = row["addon"]["p99_ms"] - row["plain"]["p99_ms"]
        row["cpu_ratio"] = row["addon"]["cpu_ms_per_request"] / row["plain"]["cpu_ms_per_request"] if row["plain"]["cpu_ms_per_request"] else 0.0
        out[load] = row
    out["fixed"]["rate"] = rounds["plain"]["fixed"][0]["rate"] if rounds["plain"]["fixed"] else 0.0
    return out


def _print_summary(res: dict[str, Any]) -> None:
    sat, fix, lost = res["saturation"], res["fixed"], res["no_exchange_lost"]
    lines = [
        "",
        f"machine: {res['machine']['cpus']} CPUs, Python {res['machine']['python']}, {res['machine']['pinning']}; "
        f"load average before {res['load_average_before'][0]:.2f}, after {res['machine']['load_average_after'][0]:.2f}",
        f"prompts: {res['prompts']}, fixed-rate arrivals: {res['arrivals']}",
        f"load generator capacity (no proxy): {res['client_capacity_rps']:.0f} req/s",
        f"{'':28s}{'plain mitmdump':>16s}{'with the addon':>16s}{'ratio/added':>14s}",
        f"{'saturation req/s':28s}{sat['plain']['rps']:16.0f}{sat['addon']['rps']:16.0f}{sat['throughput_ratio']:14.3f}",
        f"{'saturation p50 ms':28s}{sat['plain']['p50_ms']:16.1f}{sat['addon']['p50_ms']:16.1f}{sat['added_p50_ms']:+14.1f}",
        f"{'saturation p99 ms':28s}{sat['plain']['p99_ms']:16.1f}{sat['addon']['p99_ms']:16.1f}{sat['added_p99_ms']:+14.1f}",
        f"{'fixed ' + format(fix['rate'], '.0f') + ' req/s: p50 ms':28s}{fix['plain']['p50_ms']:16.2f}{fix['addon']['p50_ms']:16.2f}"
        f"{fix['added_p50_ms']:+14.2f}",
        f"{'fixed ' + format(fix['rate'], '.0f') + ' req/s: p99 ms':28s}{fix['plain']['p99_ms']:16.2f}{fix['addon']['p99_ms']:16.2f}"
        f"{fix['added_p99_ms']:+14.2f}",
        f"{'fixed, all rounds: p50 ms':28s}{fix['plain']['pooled_p50_ms']:16.2f}{fix['addon']['pooled_p50_ms']:16.2f}"
        f"{fix['added_pooled_p50_ms']:+14.2f}",
        f"{'fixed, all rounds: p99 ms':28s}{fix['plain']['pooled_p99_ms']:16.2f}{fix['addon']['pooled_p99_ms']:16.2f}"
        f"{fix['added_pooled_p99_ms']:+14.2f}",
        f"fixed-rate p99 per round (ms): plain {fix['plain']['rounds_p99_ms']}, addon {fix['addon']['rounds_p99_ms']}",
        f"{'proxy CPU ms per request':28s}{sat['plain']['cpu_ms_per_request']:16.2f}{sat['addon']['cpu_ms_per_request']:16.2f}"
        f"{sat['cpu_ratio']:14.2f}x  (saturation)",
        f"{'analysis process CPU ms/req':28s}{'':16s}{sat['addon']['helper_cpu_ms_per_request']:16.2f}  (saturation; on another core)",
        f"exchanges completed by the clients through the addon: {lost['client_completed']}, in capture.flows: "
        f"{lost['in_capture']} (lost: {lost['lost']})",
        f"client errors: plain {sat['plain']['errors'] + fix['plain']['errors']}, addon {sat['addon']['errors'] + fix['addon']['errors']}",
        f"addon proxy RSS at the end of a round: {res['addon_rss_mb_at_end']:.0f} MB",
    ]
    _say("\n".join(lines))


def _say(text: str) -> None:
    print(text, flush=True)


if __name__ == "__main__":
    sys.exit(main())
