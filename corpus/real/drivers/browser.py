"""Drive one browser SDK page in Debian's Chromium with real keyboard input:
``python browser.py SDK PAGE_HOST``.

Runs under ``auditor run`` (the proxy is in ``HTTPS_PROXY``). Chromium starts with its
background services off (no component updates, sync, translation or safe-browsing lookups), so
the capture holds the page and what its SDK sends. The geolocation permission is granted with
the planted coordinates. The driver signs in (email and name typed key by key), types the SDK's
prompt into the chat box, sends it, waits for the answer and for the SDK to flush, then closes
the page (SDKs flush on ``pagehide``).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import planted as P

ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--no-first-run", "--disable-sync", "--disable-default-apps", "--disable-client-side-phishing-detection",
    "--disable-features=OptimizationHints,MediaRouter,Translate,AutofillServerCommunication,InterestFeedContentSuggestions",
    "--metrics-recording-only", "--no-default-browser-check",
]
# Seconds to wait after the answer so the SDK's own timers flush (Sentry replay waits 5 s).
FLUSH = {"sentry": 9.0, "posthog": 4.0, "rrweb": 2.5}
PROMPT = {"openai": "browser-openai", "anthropic": "browser-anthropic"}


def main() -> int:
    from playwright.sync_api import sync_playwright

    sdk, host = sys.argv[1], sys.argv[2]
    prompt = P.PROMPTS[PROMPT.get(sdk, "browser-chat")]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, proxy={"server": os.environ["HTTPS_PROXY"]}, args=ARGS)
        context = browser.new_context(
            ignore_https_errors=True, geolocation={"latitude": float(P.LATITUDE), "longitude": float(P.LONGITUDE)},
            permissions=["geolocation"], locale="en-US", timezone_id="Europe/Berlin",
        )
        values = {k: v for k, v in vars(P).items() if k.isupper() and k != "IDENTITY"}
        context.add_init_script(f"window.__PLANTED = {json.dumps(values)};")
        page = context.new_page()
        page.on("console", lambda m: print(f"console {m.type}: {m.text[:300]}", file=sys.stderr) if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: print(f"page error: {e}", file=sys.stderr))
        page.goto(f"https://{host}/?sdk={sdk}")
        page.wait_for_function("document.getElementById('status').textContent === 'ready'", timeout=20000)
        page.click("#email")
        page.keyboard.type(P.EMAIL, delay=25)
        page.click("#name")
        page.keyboard.type(P.FULL_NAME, delay=25)
        page.keyboard.press("Enter")
        page.wait_for_function("document.getElementById('status').textContent === 'signed-in'", timeout=20000)
        page.click("#prompt")
        page.keyboard.type(prompt, delay=20)
        page.click("#send")
        page.wait_for_function("document.getElementById('status').textContent === 'answered'", timeout=30000)
        time.sleep(FLUSH.get(sdk, 2.0))
        page.close(run_before_unload=True)
        time.sleep(1.0)
        context.close()
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
