"""Find a Chromium to drive, and the flags that make it trust the auditing proxy's CA."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
from pathlib import Path

from auditor.errors import AuditorError

DEBIAN_CHROMIUM = "/usr/bin/chromium"
INSTALL_HINT = (
    "no Chromium found: install Debian's (apt-get install chromium) or Playwright's "
    "(pip install playwright && python -m playwright install chromium)"
)
# Chromium's own background traffic (updates, sync, field trials) is not the page's: keep it out.
QUIET_FLAGS: tuple[str, ...] = (
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--no-first-run",
    "--disable-features=OptimizationHints,MediaRouter,Translate,AutofillServerCommunication",
)


class BrowserMissing(AuditorError, RuntimeError):
    """No Chromium or no Playwright; ``str()`` says what to install."""


def find_chromium() -> str:
    """Debian's chromium, another chromium on PATH, or Playwright's own build, whichever is found."""
    for candidate in (DEBIAN_CHROMIUM, shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise BrowserMissing("auditor browse needs Playwright: pip install 'auditor[browse]'") from None
    with sync_playwright() as p:
        path = p.chromium.executable_path
    if path and os.access(path, os.X_OK):
        return path
    raise BrowserMissing(INSTALL_HINT)


def spki_hash(ca_file: Path) -> str:
    """Base64 SHA-256 of the CA's public key (``--ignore-certificate-errors-spki-list``).

    mitmproxy signs its certificates with the CA's key, so Chromium trusts exactly the proxy's
    certificates and no others."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    cert = x509.load_pem_x509_certificate(ca_file.read_bytes())
    der = cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def launch_args(ca_file: Path) -> list[str]:
    args = [*QUIET_FLAGS, f"--ignore-certificate-errors-spki-list={spki_hash(ca_file)}", "--disable-quic"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium refuses to run as root with its sandbox
    return args
