"""Drive a Chromium through the auditing proxy like a person using a chat page.

The sequence, each step recorded as a driver event in ``page-events.jsonl``:
``session`` (URL, canary, prompts) -> ``navigate`` -> the user's ``--script`` -> ``type`` the
canary, wait, ``clear`` it (never submitted) -> for each prompt: ``type``, ``submit``, wait for
the network to settle (with a cap), scroll, ``settled``.
"""

from __future__ import annotations

import contextlib
import json
import random
import runpy
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from auditor.browse.chromium import launch_args
from auditor.errors import AuditorError
from auditor.page.events import PageEvent, parse_event, to_json

INPUT_CANDIDATES: tuple[str, ...] = (
    "textarea",
    "[contenteditable='true']",
    "[contenteditable='']",
    "[role='textbox']",
    "input[type='text']",
    "input:not([type])",
)
SUBMIT_CANDIDATES: tuple[str, ...] = ("button[type='submit']", "[data-testid*='send']", "button[aria-label*='end' i]")


class BrowseFailure(AuditorError, RuntimeError):
    """The page could not be audited as asked (did not load, no chat input, the script failed).

    ``str()`` is one line saying what was tried. What was captured until then is still reported."""


@dataclass
class BrowseSettings:
    url: str
    prompts: list[str]
    input_selector: str | None = None
    script: Path | None = None
    profile: Path | None = None
    headed: bool = False
    instrument: bool = True
    settle_cap: float = 15.0  # seconds to wait for the answer to settle
    key_delay: tuple[int, int] = (40, 140)  # ms between key presses, drawn per key
    canary_wait: float = 2.0  # seconds after typing the canary, before clearing it
    load_timeout: float = 30.0
    seed: int | None = None


@dataclass
class BrowseLog:
    """The events of one session (driver and page), appended as they happen."""

    events: list[PageEvent] = field(default_factory=list)
    dropped: int = 0
    limit: int = 100_000

    def driver(self, kind: str, **detail: Any) -> None:
        self.events.append(PageEvent(time.time() * 1000, kind, "driver", detail=detail))

    def page(self, payload: Any) -> None:
        if len(self.events) >= self.limit:
            self.dropped += 1
            return
        try:
            ev = parse_event(json.loads(payload), "page") if isinstance(payload, str) and len(payload) < 16384 else None
        except (ValueError, RecursionError):
            ev = None
        if ev is None:
            self.dropped += 1
        else:
            self.events.append(ev)

    def write(self, path: Path, opener: Callable[[Path], Any]) -> None:
        with opener(path) as fh:
            for ev in sorted(self.events, key=lambda e: e.t):
                fh.write(to_json(ev) + "\n")


def instrumentation() -> str:
    return resources.files("auditor").joinpath("page", "instrument.js").read_text(encoding="utf-8")


def make_canary(rng: random.Random) -> str:
    """A word nobody types by chance: 12 random lower-case letters."""
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(12))


def _type(page: Any, text: str, rng: random.Random, delays: tuple[int, int]) -> None:
    """Real key events, one per character, with a human-like pause between them."""
    for ch in text:
        page.keyboard.type(ch)
        page.wait_for_timeout(rng.randint(*delays))


def _find_input(page: Any, selector: str | None, timeout_ms: int) -> Any:
    from playwright.sync_api import Error as PlaywrightError

    tried = [selector] if selector else list(INPUT_CANDIDATES)
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        for sel in tried:
            loc = page.locator(sel).locator("visible=true")
            try:
                if loc.count():
                    return loc.first
            except PlaywrightError:  # a selector the page's DOM rejects: try the next one
                continue
        if time.monotonic() >= deadline:
            raise BrowseFailure(
                f"no chat input found on {page.url} (tried: {', '.join(tried)}); name it with --input SELECTOR"
            )
        page.wait_for_timeout(250)


def _value(box: Any) -> str:
    from playwright.sync_api import Error as PlaywrightError

    try:
        return str(box.evaluate("el => ('value' in el) ? el.value : el.innerText") or "")
    except PlaywrightError:  # the element went away with the answer: nothing left to submit
        return ""


def _settle(page: Any, cap: float) -> None:
    from playwright.sync_api import Error as PlaywrightError

    # A page that never goes idle (polling, streaming) times out: the cap is the answer.
    with contextlib.suppress(PlaywrightError):
        page.wait_for_load_state("networkidle", timeout=cap * 1000)


def drive(page: Any, context: Any, settings: BrowseSettings, log: BrowseLog, rng: random.Random, canary: str) -> None:
    """Run the session on an open page. Raises :class:`BrowseFailure`."""
    from playwright.sync_api import Error as PlaywrightError

    log.driver("navigate", url=settings.url)
    try:
        response = page.goto(settings.url, wait_until="load", timeout=settings.load_timeout * 1000)
    except PlaywrightError as e:
        raise BrowseFailure(f"could not load {settings.url}: {str(e).splitlines()[0]}") from None
    if response is not None and response.status >= 400:
        raise BrowseFailure(f"could not load {settings.url}: HTTP {response.status} {response.status_text}".rstrip())
    if settings.script is not None:
        try:
            namespace = runpy.run_path(str(settings.script))
            run = namespace.get("run")
            if not callable(run):
                raise BrowseFailure(f"{settings.script}: defines no run(page, context) function")
            run(page, context)
        except BrowseFailure:
            raise
        except Exception as e:  # noqa: BLE001 - the user's script may raise anything: one clear line
            raise BrowseFailure(
                f"{settings.script}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
            ) from None
    box = _find_input(page, settings.input_selector, 10_000)
    box.click()
    log.driver("type", text="canary")
    _type(page, canary, rng, settings.key_delay)
    page.wait_for_timeout(int(settings.canary_wait * 1000))
    page.keyboard.press("Control+A")
    page.keyboard.press("Backspace")
    log.driver("clear", text="canary")
    page.wait_for_timeout(500)
    for i, prompt in enumerate(settings.prompts):
        box = _find_input(page, settings.input_selector, 10_000)
        box.click()
        log.driver("type", prompt=i)
        _type(page, prompt, rng, settings.key_delay)
        page.wait_for_timeout(rng.randint(300, 900))
        log.driver("submit", prompt=i)
        page.keyboard.press("Enter")
        page.wait_for_timeout(300)
        if _value(box).strip():  # Enter made a new line: the page wants its send button
            for sel in SUBMIT_CANDIDATES:
                button = page.locator(sel).locator("visible=true")
                if button.count():
                    button.first.click()
                    break
        _settle(page, settings.settle_cap)
        page.mouse.wheel(0, 2000)
        page.wait_for_timeout(300)
        log.driver("settled", prompt=i)


def browse(settings: BrowseSettings, executable: str, proxy_url: str, ca_file: Path, log: BrowseLog) -> None:
    """Open Chromium through the proxy and run :func:`drive`; always closes the browser."""
    from playwright.sync_api import sync_playwright

    rng = random.Random(settings.seed)
    canary = make_canary(rng)
    log.driver(
        "session", url=settings.url, canary=canary, prompts=list(settings.prompts), instrumented=settings.instrument
    )
    args = launch_args(ca_file)
    with sync_playwright() as p:
        launch: dict[str, Any] = {
            "executable_path": executable,
            "headless": not settings.headed,
            "proxy": {"server": proxy_url},
            "args": args,
        }
        browser = None
        if settings.profile is not None:
            context = p.chromium.launch_persistent_context(str(settings.profile), **launch)
        else:
            browser = p.chromium.launch(**launch)
            context = browser.new_context()
        try:
            if settings.instrument:
                context.expose_binding("__auditorEvent", lambda source, payload: log.page(payload))
                context.add_init_script(script=instrumentation())
            page = context.pages[0] if context.pages else context.new_page()
            drive(page, context, settings, log, rng, canary)
        finally:
            try:
                context.close()
            finally:
                if browser is not None:
                    browser.close()
