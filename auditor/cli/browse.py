"""``auditor browse URL``: audit a web AI chat in one command (see :mod:`auditor.browse`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from auditor.cli.common import (
    BlockUnmappedOption,
    MapOption,
    RevealOption,
    UpstreamInsecureOption,
    UsageFailure,
    _err,
    app,
)


@app.command()
def browse(
    url: Annotated[str, typer.Argument(help="The chat page to open (https://...).", show_default=False)],
    prompt: Annotated[
        list[str] | None, typer.Option("--prompt", help="A prompt to type and submit (repeatable; in order).")
    ] = None,
    input_: Annotated[
        str | None,
        typer.Option(
            "--input",
            help="CSS selector of the chat input. Default: the first visible textarea or contenteditable element.",
        ),
    ] = None,
    script: Annotated[
        Path | None,
        typer.Option(
            "--script",
            help="Python file defining run(page, context) (Playwright's sync API), run before the prompts: log in, "
                 "navigate.",
        ),
    ] = None,
    profile: Annotated[
        Path | None, typer.Option("--profile", help="Chromium user data directory to reuse (a logged-in profile).")
    ] = None,
    headed: Annotated[bool, typer.Option("--headed", help="Show the browser window.")] = False,
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Directory for capture.flows, page-events.jsonl and the reports.")
    ] = Path("browse"),
    map_: MapOption = None,
    upstream_insecure: UpstreamInsecureOption = False,
    block_unmapped: BlockUnmappedOption = False,
    policy: Annotated[Path | None, typer.Option("--policy", help="Policy file: exit 1 on violations.")] = None,
    format: Annotated[str, typer.Option("-f", "--format", help="Report formats: html, json, md.")] = "html,json",
    reveal: RevealOption = False,
    first_party: Annotated[
        list[str] | None,
        typer.Option("--first-party", help="Host, domain or owner of the site (default: the page's site)."),
    ] = None,
    confdir: Annotated[str, typer.Option("--confdir", help="Where mitmproxy keeps its CA.")] = "~/.mitmproxy",
    instrument: Annotated[
        bool,
        typer.Option("--instrument/--no-instrument", help="Record fingerprinting and cookie calls in every frame."),
    ] = True,
    settle: Annotated[
        float, typer.Option("--settle", min=0.5, help="Seconds to wait at most for an answer to settle.")
    ] = 15.0,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print nothing but errors.")] = False,
) -> None:
    """Open URL in Chromium through the auditing proxy, type the prompts, and report what the page sent and did.

    A canary is typed first and never submitted: seeing it on the wire shows keylogging. Exit 2 when
    the page did not load or has no chat input (whatever was captured is still reported), 1 when
    --policy finds violations. Example:

    auditor browse https://chat.example.test/ --prompt "Plan my trip to Lisbon"
    --map chat.example.test=127.0.0.1:8443 --upstream-insecure
    """
    from urllib.parse import urlsplit

    from auditor.browse.chromium import find_chromium
    from auditor.browse.driver import BrowseFailure, BrowseLog, BrowseSettings
    from auditor.browse.driver import browse as run_browser
    from auditor.cli.live import _apply_policy, _load_policy, _proxy_options
    from auditor.live import LiveAuditor, ignore_file_size_signal, write_reports
    from auditor.live.proxy import ProxyConfig, ProxyThread
    from auditor.page.events import FILE_NAME
    from auditor.renderers.output import open_private

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageFailure(f"not a web page address: {url!r} (expected http:// or https://)")
    if script is not None and not script.is_file():
        raise UsageFailure(f"{script}: no such file (--script)")
    if profile is not None and profile.exists() and not profile.is_dir():
        raise UsageFailure(f"{profile}: not a directory (--profile)")
    rules = _load_policy(policy) if policy is not None else None
    options = _proxy_options(output, "json", reveal, list(first_party or ()), list(map_ or ()), block_unmapped)
    executable = find_chromium()
    settings = BrowseSettings(
        url=url,
        prompts=list(prompt or ()),
        input_selector=input_,
        script=script,
        profile=profile,
        headed=headed,
        instrument=instrument,
        settle_cap=settle,
    )
    addon = LiveAuditor()
    runner = ProxyThread(ProxyConfig(confdir=confdir, ssl_insecure=upstream_insecure, options=options), [addon])
    ignore_file_size_signal()
    proxy = runner.start()
    if not quiet:
        _err(f"browsing {url} through {proxy.url} with {executable}")
    log = BrowseLog()
    failure: str | None = None
    try:
        run_browser(settings, executable, proxy.url, proxy.ca_file, log)
    except BrowseFailure as e:
        failure = str(e)
    except KeyboardInterrupt:
        failure = "interrupted"
    except Exception as e:  # noqa: BLE001 - the browser crashed or Playwright failed: report what was captured
        failure = f"the browser failed: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
    finally:
        runner.stop()
    live_doc = addon.finish()
    directory = addon.capture_path.parent if addon.capture_path is not None else output
    events_path = directory / FILE_NAME
    try:
        log.write(events_path, open_private)
    except OSError as e:
        raise UsageFailure(f"cannot write {events_path}: {e.strerror or e}") from None
    doc = _rebuild(addon.capture_path, events_path, live_doc, reveal, list(first_party or ()))
    try:
        written = write_reports(doc, directory, format)
    except OSError as e:
        raise UsageFailure(f"cannot write the reports in {directory}: {e.strerror or e}") from None
    if log.dropped:
        _err(f"warning: {log.dropped} page event(s) were not recorded (malformed or over the limit)")
    if not quiet:
        s, page = doc["summary"], doc.get("page") or {}
        found = (
            ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in (page.get("summary") or {}).items() if v) or "nothing"
        )
        _err(
            f"{s['exchanges']} requests, {s['destinations']} destinations ({s['third_party_destinations']} "
            f"third-party), "
            f"{s['findings']} findings; the page: {found} -> "
            + ", ".join(str(p) for p in ([addon.capture_path] if addon.capture_path else []) + [events_path, *written])
        )
    if failure is not None:
        _err(f"error: {failure}")
        raise typer.Exit(2)
    status = _apply_policy(rules, doc, quiet) if rules is not None else 0
    raise typer.Exit(status)


def _rebuild(
    capture: Path | None, events_path: Path, live_doc: dict[str, Any], reveal: bool, first_party: list[str]
) -> dict[str, Any]:
    """The report as ``auditor report`` makes it from the saved capture and page events, so the
    browse run and a later offline run agree."""
    from auditor.audit.pipeline import AuditOptions, audit_paths
    from auditor.io.capture import CaptureError
    from auditor.page.events import PageEvents, read_events
    from auditor.page.report import add_page_section

    events = read_events(events_path) if events_path.stat().st_size else PageEvents()
    doc = live_doc
    paths: list[Path] = []
    if capture is not None and capture.is_file() and capture.stat().st_size:
        try:
            doc = audit_paths([capture], AuditOptions(reveal=reveal, first_party=tuple(first_party)))
            paths = [capture]
        except CaptureError:
            doc = live_doc
    add_page_section(doc, paths, events, reveal)
    return doc
