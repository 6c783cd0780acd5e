"""The ``auditor`` command line: a thin adapter over the library.

Bad input gives one line on stderr and exit status 2, never a traceback
(set ``AUDITOR_DEBUG=1`` to see one).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from . import __version__, output

app = typer.Typer(
    name="auditor",
    help="Privacy audit for AI chat apps: which personal data an app sends, to whom, and under which jurisdiction.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3


class UsageFailure(Exception):
    """Bad input from the user: reported as one line, exit status 2."""


def _err(msg: str) -> None:
    sys.stderr.write(f"auditor: {msg}\n")
    sys.stderr.flush()


def _version(value: bool) -> None:
    if value:
        typer.echo(f"auditor {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Privacy audit for AI chat apps."""


def parse_formats(value: str) -> list[str]:
    try:
        return output.parse_formats(value)
    except ValueError as e:
        raise UsageFailure(str(e)) from None


def output_paths(out: str, fmts: list[str]) -> dict[str, Path | None]:
    try:
        return output.output_paths(out, fmts)
    except ValueError as e:
        raise UsageFailure(str(e)) from None


write_private = output.write_private


def _progress_for(total_hint: int) -> Any:
    """A progress display on stderr when it is a terminal, else None."""
    if not sys.stderr.isatty():
        return None
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.completed:,} requests"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )


@app.command()
def report(
    captures: Annotated[
        list[Path],
        typer.Argument(
            help="Saved captures: mitmproxy flow files, HAR (also .zhar) or pcap/pcapng. The format is read from the content.",
            show_default=False,
        ),
    ],
    output: Annotated[
        str,
        typer.Option(
            "-o",
            "--output",
            help="Output path: a file stem (out/audit -> out/audit.html, out/audit.json), a directory, or - for stdout.",
        ),
    ] = "report",
    format: Annotated[
        str, typer.Option("-f", "--format", help="Comma-separated report formats: html, json, md.")
    ] = "html,json",
    reveal: Annotated[
        bool, typer.Option("--reveal", help="Show personal values unmasked in every output (masked by default).")
    ] = False,
    first_party: Annotated[
        list[str] | None,
        typer.Option(
            "--first-party",
            help="Host, registrable domain or owner name of the app itself (repeatable). Default: inferred from where prompts go.",
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print nothing but errors.")] = False,
) -> None:
    """Audit saved captures and write HTML, JSON and Markdown reports.

    Example: auditor report fixtures/ai-chat-session.flows -o out/audit --format html,json,md
    """
    from .audit import AuditOptions, audit_paths
    from .capture import CaptureError
    from .renderers import render

    fmts = parse_formats(format)
    targets = output_paths(output, fmts)
    warnings: list[str] = []

    def warn(msg: str) -> None:
        warnings.append(msg)
        if not quiet:
            _err(f"warning: {msg}")

    progress = None if quiet else _progress_for(0)
    options = AuditOptions(reveal=reveal, first_party=tuple(first_party or ()))
    try:
        if progress is not None:
            with progress:
                task = progress.add_task("auditing", total=None)
                doc = audit_paths(captures, options, warn, lambda n: progress.advance(task, n))
        else:
            doc = audit_paths(captures, options, warn)
    except CaptureError as e:
        raise UsageFailure(str(e)) from None
    written = []
    for fmt, path in targets.items():
        text = render(doc, fmt)
        if path is None:
            sys.stdout.write(text)
        else:
            try:
                write_private(path, text)
            except OSError as e:
                raise UsageFailure(f"cannot write {path}: {e.strerror or e}") from None
            written.append(str(path))
    if not quiet and written:
        s = doc["summary"]
        _err(
            f"{s['exchanges']} requests, {s['destinations']} destinations "
            f"({s['third_party_destinations']} third-party), {s['findings']} findings -> {', '.join(written)}"
        )


@app.command()
def explain(
    host: Annotated[str, typer.Argument(help="A host name or an IP address.", show_default=False)],
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """Print what auditor knows of a host: owner, parent, countries, category, legal notes, and sources.

    Example: auditor explain mcs.volceapplog.com
    """
    from .explain import explain as explain_host
    from .explain import format_text

    if not host.strip():
        raise UsageFailure("no host given")
    info = explain_host(host)
    if json_out:
        import json

        typer.echo(json.dumps(info, indent=2, ensure_ascii=False))
    else:
        typer.echo("\n".join(format_text(info)))


from . import cli_live  # noqa: E402,F401  (registers capture and run)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the typer app with one-line errors and stable exit codes."""
    try:
        app(args=argv, prog_name="auditor", standalone_mode=True)
    except UsageFailure as e:
        _err(f"error: {e}")
        sys.exit(EXIT_BAD_INPUT)
    except KeyboardInterrupt:
        _err("interrupted")
        sys.exit(130)
    except SystemExit:
        raise
    except BrokenPipeError:
        sys.exit(1)
    except Exception as e:  # never a traceback for the user
        if os.environ.get("AUDITOR_DEBUG"):
            raise
        _err(f"internal error: {type(e).__name__}: {e} (set AUDITOR_DEBUG=1 for details)")
        sys.exit(EXIT_INTERNAL)


from . import cli_gate  # noqa: E402,F401  (registers check, diff, redact)

if __name__ == "__main__":
    main()
