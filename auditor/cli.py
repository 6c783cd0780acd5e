"""The ``auditor`` command line: a thin adapter over the library.

Bad input gives one line on stderr and exit status 2, never a traceback
(set ``AUDITOR_DEBUG=1`` to see one).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from . import __version__, output
from .limits import DEFAULT_LIMITS, Limits

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


# Controls and bidirectional overrides in a message (from a file name, a host in a capture...)
# are escaped, so a message stays one line and cannot drive the terminal.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _printable(msg: str) -> str:
    return _UNPRINTABLE.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", msg)


def _err(msg: str) -> None:
    sys.stderr.write(f"auditor: {_printable(msg)}\n")
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
            help="Host, registrable domain or owner name of the app itself (repeatable; owner names match on whole words). "
            "Default: the top-level site of a browser capture, else guessed from where prompts go.",
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print nothing but errors.")] = False,
    max_body_mb: Annotated[
        int,
        typer.Option("--max-body-mb", min=0, help="MiB of one stored body or WebSocket message analysed; the rest is skipped and reported."),
    ] = DEFAULT_LIMITS.max_body >> 20,
    max_inflated_mb: Annotated[
        int,
        typer.Option("--max-inflated-mb", min=0, help="MiB a compressed body is inflated to (decompression bombs stop there)."),
    ] = DEFAULT_LIMITS.max_inflated >> 20,
    max_depth: Annotated[
        int, typer.Option("--max-depth", min=0, help="Nesting levels of JSON walked.")
    ] = DEFAULT_LIMITS.max_depth,
    max_fields: Annotated[
        int, typer.Option("--max-fields", min=0, help="Fields analysed per exchange.")
    ] = DEFAULT_LIMITS.max_fields,
    max_headers: Annotated[
        int, typer.Option("--max-headers", min=0, help="Headers kept per request or response.")
    ] = DEFAULT_LIMITS.max_headers,
    known: Annotated[
        Path | None,
        typer.Option(
            "--known",
            help="YAML file of known values (the test account's email, phone, name, device ids, prompt canaries) to trace in every exchange.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Audit saved captures and write HTML, JSON and Markdown reports.

    Example: auditor report fixtures/ai-chat-session.flows -o out/audit --format html,json,md
    """
    from .audit import AuditOptions, audit_paths
    from .capture import CaptureError
    from .parties import FirstPartyError
    from .output import open_private
    from .renderers import render_to

    fmts = parse_formats(format)
    targets = output_paths(output, fmts)
    warnings: list[str] = []

    def warn(msg: str) -> None:
        warnings.append(msg)
        if not quiet:
            _err(f"warning: {msg}")

    progress = None if quiet else _progress_for(0)
    known_values: tuple = ()
    if known is not None:
        from .known import KnownError, load_known

        try:
            known_values = tuple(load_known(known))
        except KnownError as e:
            raise UsageFailure(str(e)) from None
    limits = Limits(
        max_body=max_body_mb << 20,
        max_inflated=max_inflated_mb << 20,
        max_depth=max_depth,
        max_fields=max_fields,
        max_headers=max_headers,
    )
    options = AuditOptions(reveal=reveal, first_party=tuple(first_party or ()), known=known_values, limits=limits)
    try:
        if progress is not None:
            with progress:
                task = progress.add_task("auditing", total=None)
                doc = audit_paths(captures, options, warn, lambda n: progress.advance(task, n), stream=True)
        else:
            doc = audit_paths(captures, options, warn, stream=True)
    except (CaptureError, FirstPartyError) as e:
        raise UsageFailure(str(e)) from None
    written = []
    for fmt, path in targets.items():
        if path is None:
            render_to(doc, fmt, sys.stdout)
        else:
            try:
                with open_private(path) as fh:
                    render_to(doc, fmt, fh)
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
def evaluate(
    corpus: Annotated[
        Path,
        typer.Argument(help="Labeled corpus directory (corpus.har and labels.json).", show_default=True),
    ] = Path("corpus"),
    errors: Annotated[bool, typer.Option("--errors", help="Also list every false positive and false negative.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Measure the classifiers on a labeled corpus: precision, recall and F1 per category and overall.

    Example: auditor evaluate corpus
    """
    from .evaluate import CorpusError, evaluate_corpus, format_report

    try:
        result = evaluate_corpus(corpus)
    except CorpusError as e:
        raise UsageFailure(str(e)) from None
    if json_out:
        import json

        typer.echo(json.dumps(result.to_dict(errors), indent=2, ensure_ascii=False))
    else:
        typer.echo(format_report(result, errors))


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
