"""Record the real-SDK corpus: ``make corpus-real`` (or ``python corpus/real/record.py [SDK ...]``).

1. Installs the pinned SDKs: Python ones into ``corpus/real/.sdk-venv`` (``requirements.txt``),
   browser ones into ``corpus/real/browser/node_modules`` (``npm ci`` from ``package-lock.json``)
   and bundles the chat page with esbuild. Both are ignored by git; this step needs the
   registries, nothing else does.
2. Starts the catch-all backend (``backend.py``) on a loopback port.
3. Runs every SDK driver through ``auditor run --map HOST=127.0.0.1:PORT ... --upstream-insecure
   --block-unmapped``: the SDKs call their real default hosts, the proxy sends them to the
   backend, nothing leaves the machine. Each capture is kept as ``captures/SDK.flows``.
4. Labels the captures (``label.py``, which does not import auditor).

Every run makes new random ids (the SDKs' own), so the captures and labels change as a whole.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))

from backend import Backend  # noqa: E402

SDK_VENV = HERE / ".sdk-venv"
BROWSER = HERE / "browser"
CAPTURES = HERE / "captures"
PAGE_HOST = "chat.example.org"

# The hosts each SDK calls by default (all mapped to the backend; any other is refused).
PYTHON_SDKS: dict[str, list[str]] = {
    "openai": ["api.openai.com"],
    "anthropic": ["api.anthropic.com"],
    "google-genai": ["generativelanguage.googleapis.com"],
    "mistralai": ["api.mistral.ai"],
    "cohere": ["api.cohere.com"],
    "zhipuai": ["open.bigmodel.cn"],
    "dashscope": ["dashscope.aliyuncs.com"],
    "volcengine-ark": ["ark.cn-beijing.volces.com"],
    "qianfan": ["qianfan.baidubce.com", "aip.baidubce.com"],
    "posthog": ["us.i.posthog.com"],
    "mixpanel": ["api.mixpanel.com"],
    "segment": ["api.segment.io"],
    "amplitude": ["api2.amplitude.com"],
    "sentry": ["o4500000000000001.ingest.us.sentry.io"],
}

BROWSER_SDKS: dict[str, list[str]] = {
    "browser-posthog": ["us.i.posthog.com", "us-assets.i.posthog.com"],
    "browser-amplitude": ["api2.amplitude.com", "sr-client-cfg.amplitude.com"],
    "browser-mixpanel": ["api-js.mixpanel.com"],
    "browser-segment": ["cdn.segment.com", "api.segment.io"],
    "browser-sentry": ["o4500000000000001.ingest.us.sentry.io"],
    "browser-rrweb": [],
    "browser-openai": ["api.openai.com"],
    "browser-anthropic": ["api.anthropic.com"],
}


def _stamp(*files: Path) -> str:
    return hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()


def install_python() -> Path:
    """The recorder's venv with the pinned SDKs (reinstalled when requirements.txt changes)."""
    req = HERE / "requirements.txt"
    stamp = SDK_VENV / ".installed"
    python = SDK_VENV / "bin" / "python"
    if stamp.is_file() and stamp.read_text() == _stamp(req):
        return python
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(SDK_VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", str(req)], check=True)
    stamp.write_text(_stamp(req))
    return python


def install_browser() -> Path:
    """node_modules from package-lock.json, then the page bundles (esbuild); returns the site dir."""
    stamp = BROWSER / "node_modules" / ".installed"
    lock = BROWSER / "package-lock.json"
    if not (stamp.is_file() and stamp.read_text() == _stamp(lock)):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--silent"], cwd=BROWSER, check=True)
        stamp.write_text(_stamp(lock))
    site = BROWSER / "site"
    site.mkdir(exist_ok=True)
    shutil.copy(BROWSER / "index.html", site / "index.html")
    entries = sorted((BROWSER / "src").glob("*.js"))
    subprocess.run(
        [str(BROWSER / "node_modules" / ".bin" / "esbuild"), *map(str, entries), "--bundle", "--minify", "--format=iife",
         f"--outdir={site}", "--log-level=warning", "--define:process.env.NODE_ENV=\"production\""],
        cwd=BROWSER, check=True,
    )
    return site


def record(sdk: str, hosts: list[str], port: int, cmd: list[str], confdir: Path) -> Path:
    """Run one driver through auditor run; returns the capture kept under captures/."""
    with tempfile.TemporaryDirectory(prefix=f"corpus-{sdk}-") as out:
        maps = [a for h in hosts for a in ("--map", f"{h}=127.0.0.1:{port}")]
        auditor = [str(Path(sys.executable).parent / "auditor")]
        if not Path(auditor[0]).exists():
            auditor = [sys.executable, "-m", "auditor"]
        p = subprocess.run(
            [*auditor, "run", "-q", "-o", out, "-f", "json", "--confdir", str(confdir), *maps,
             "--upstream-insecure", "--block-unmapped", "--", *cmd],
            cwd=HERE,
        )
        if p.returncode != 0:
            raise SystemExit(f"record: {sdk} failed (exit {p.returncode})")
        CAPTURES.mkdir(exist_ok=True)
        target = CAPTURES / f"{sdk}.flows"
        shutil.copy(Path(out) / "capture.flows", target)
    return target


def main() -> int:
    ap = argparse.ArgumentParser(description="Record the real-SDK corpus (needs the package registries).")
    ap.add_argument("sdks", nargs="*", help="only these (default: all)")
    ap.add_argument("--no-label", action="store_true", help="record only; do not rewrite labels.json")
    args = ap.parse_args()
    wanted = set(args.sdks) or set(PYTHON_SDKS) | set(BROWSER_SDKS)
    unknown = wanted - set(PYTHON_SDKS) - set(BROWSER_SDKS)
    if unknown:
        print(f"record: unknown SDK(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    python = install_python() if wanted & set(PYTHON_SDKS) else None
    site = install_browser() if wanted & set(BROWSER_SDKS) else None
    with tempfile.TemporaryDirectory(prefix="corpus-confdir-") as confdir, Backend(site, PAGE_HOST) as backend:
        for sdk, hosts in PYTHON_SDKS.items():
            if sdk in wanted and python is not None:
                record(sdk, hosts, backend.port, [str(python), str(HERE / "drivers" / "python_sdks.py"), sdk], Path(confdir))
                print(f"recorded {sdk}", file=sys.stderr)
        for sdk, hosts in BROWSER_SDKS.items():
            if sdk in wanted and site is not None:
                cmd = [sys.executable, str(HERE / "drivers" / "browser.py"), sdk.removeprefix("browser-"), PAGE_HOST]
                record(sdk, [PAGE_HOST, *hosts], backend.port, cmd, Path(confdir))
                print(f"recorded {sdk}", file=sys.stderr)
    if not args.no_label:
        subprocess.run([sys.executable, str(HERE / "label.py")], check=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    sys.exit(main())
