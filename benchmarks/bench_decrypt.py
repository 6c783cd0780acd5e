"""Benchmark: decrypted HTTP/2 audit against tshark decrypting the same file with the same key log.

Records a real capture on loopback: curl (HTTP/2 over TLS 1.3, secrets in ``SSLKEYLOGFILE``)
sends N requests, alternating a GET of a JSON profile and a POST of an OpenAI-style chat request,
over several connections, to the hypercorn backend of the tests (``tests/tls_backend.py``), while
tcpdump records ``lo``. Then, interleaved in the same run, so machine load hits both alike:

- ``auditor``: ``auditor report F --keylog K --format json -o -`` (the whole audit: the network
  pass, decryption, HTTP/2 with HPACK, fields, classifiers, report);
- ``decrypt``: the decryption step alone, in a fresh interpreter
  (``auditor.io.tlsdecrypt.decrypt_capture``: TCP reassembly, TLS, HTTP/2 with HPACK, exchanges);
- ``tshark``: ``tshark -r F -o tls.keylog_file:K -Y http2 -T fields -e http2.header.value
  -e http2.data.data``.

Prints the packets, the median wall time of each over ``--repeat`` runs and the speed ratio
(tshark time / auditor time: above 1.0 means auditor is faster). Needs tcpdump, tshark, curl and
root (tcpdump on ``lo``).

    python benchmarks/bench_decrypt.py [--requests 6000] [--connections 6] [--repeat 3] [--keep DIR [--reuse]]

Per round it also prints the ratio of each to tshark in wall time and in CPU time (the
child's own user + system time, from ``getrusage``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))

PROMPT = json.dumps({
    "model": "gpt-4o",
    "messages": [{"role": "user", "content": "My email is jane.doe@example.org and my phone +44 20 7946 0958. Plan my week."}],
})


def record(directory: Path, requests: int, connections: int) -> tuple[Path, Path, int]:
    """Record the capture; return (capture, key log, packets)."""
    from tls_backend import TlsBackend

    pcap, keys = directory / "h2.pcap", directory / "keys.log"
    with TlsBackend(directory, ["api.openai.com"]) as backend:
        port = backend.port
        base = f"https://api.openai.com:{port}"
        dump = subprocess.Popen(["tcpdump", "-i", "lo", "-U", "--immediate-mode", "-B", "32768", "-n", "-w", str(pcap), f"tcp port {port}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        assert dump.stderr is not None
        dump.stderr.readline()
        time.sleep(1.0)
        per = max(1, requests // connections)
        env = dict(os.environ, SSLKEYLOGFILE=str(keys))
        common = f'http2\ncacert = "{backend.ca}"\nresolve = "api.openai.com:{port}:127.0.0.1"\nsilent\noutput = "/dev/null"\n'
        for c in range(connections):
            blocks = []
            for i in range(per):
                if i % 2:
                    body = PROMPT.replace('"', '\\"')
                    blocks.append(common + f'header = "content-type: application/json"\ndata = "{body}"\nurl = "{base}/v1/chat/completions?n={i}"\n')
                else:
                    blocks.append(common + f'url = "{base}/v1/me?n={i}"\n')
            config = directory / f"curl-{c}.conf"
            config.write_text("next\n".join(blocks))
            subprocess.run(["curl", "-K", str(config)], env=env, check=True, timeout=600)
        time.sleep(1.0)
        dump.terminate()
        dump.wait(30)
    out = subprocess.run(["capinfos", "-c", "-M", str(pcap)], capture_output=True, text=True)
    packets = int(out.stdout.strip().splitlines()[-1].split()[-1]) if out.returncode == 0 else 0
    return pcap, keys, packets


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system, the child's own) of one run of ``cmd``."""
    cpu = _children_cpu()
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start, _children_cpu() - cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=6000)
    ap.add_argument("--connections", type=int, default=6)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", type=Path, help="Record into (and keep) this directory.")
    ap.add_argument("--reuse", action="store_true", help="Time the capture already recorded in --keep (h2.pcap, keys.log).")
    args = ap.parse_args()
    directory = args.keep or Path(tempfile.mkdtemp(prefix="bench-decrypt-"))
    directory.mkdir(parents=True, exist_ok=True)
    if args.reuse and args.keep and (directory / "h2.pcap").exists():
        pcap, keys = directory / "h2.pcap", directory / "keys.log"
        out = subprocess.run(["capinfos", "-c", "-M", str(pcap)], capture_output=True, text=True)
        packets = int(out.stdout.strip().splitlines()[-1].split()[-1]) if out.returncode == 0 else 0
    else:
        pcap, keys, packets = record(directory, args.requests, args.connections)
    auditor = [sys.executable, "-m", "auditor", "report", str(pcap), "--keylog", str(keys), "--format", "json", "-o", "-", "-q"]
    tshark = ["tshark", "-r", str(pcap), "-o", f"tls.keylog_file:{keys}", "-Y", "http2", "-T", "fields",
              "-e", "http2.header.value", "-e", "http2.data.data"]
    # Same work check: auditor decrypted every request.
    doc = json.loads(subprocess.run(auditor, capture_output=True, text=True, check=True).stdout)
    decrypt = [sys.executable, "-c", "import sys; from auditor.io.tlsdecrypt import decrypt_capture, load_keylog; "
               "decrypt_capture(sys.argv[1], load_keylog(sys.argv[2]))", str(pcap), str(keys)]
    times: dict[str, list[float]] = {"auditor": [], "decrypt": [], "tshark": []}
    cpus: dict[str, list[float]] = {"auditor": [], "decrypt": [], "tshark": []}
    for _ in range(args.repeat):
        for name, cmd in (("tshark", tshark), ("auditor", auditor), ("decrypt", decrypt)):
            wall, cpu = timed(cmd)
            times[name].append(wall)
            cpus[name].append(cpu)
    a, t, d = (statistics.median(times[k]) for k in ("auditor", "tshark", "decrypt"))
    print(f"capture: {packets:,} packets, {pcap.stat().st_size / 1e6:.1f} MB, {doc['summary']['exchanges']:,} exchanges decrypted "
          f"({doc['captures'][0]['decryption']['decrypted_connections']} of {doc['captures'][0]['decryption']['connections']} connections)")
    print(f"auditor report --keylog: {a:6.2f} s  {packets / a:9,.0f} packets/s")
    print(f"decryption step alone:   {d:6.2f} s  {packets / d:9,.0f} packets/s")
    print(f"tshark -Y http2:         {t:6.2f} s  {packets / t:9,.0f} packets/s")
    print(f"ratio, speed against tshark (median of {args.repeat}, interleaved): "
          f"auditor report {t / a:.2f}x, decryption step {t / d:.2f}x")
    for label, key in (("auditor report", "auditor"), ("decryption step", "decrypt")):
        for what, series in (("wall", times), ("CPU", cpus)):
            rounds = [x / y for x, y in zip(series["tshark"], series[key], strict=True)]
            print(f"{label} vs tshark, {what} time, per round: {', '.join(f'{r:.2f}x' for r in rounds)}; "
                  f"median {statistics.median(rounds):.2f}x")


if __name__ == "__main__":
    main()
