"""What every ``auditor`` command shares: the typer app, one-line errors, output options."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from auditor import __version__
from auditor.errors import AuditorError
from auditor.renderers import output

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


class UsageFailure(AuditorError):
    """Bad input from the user: reported as one line, exit status 2 (as every AuditorError)."""


# Controls and bidirectional overrides in a message (from a file name, a host in a capture...)
# are escaped, so a message stays one line and cannot drive the terminal.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _printable(msg: str) -> str:
    return _UNPRINTABLE.sub(
        lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", msg
    )


def _err(msg: str) -> None:
    sys.stderr.write(f"auditor: {_printable(msg)}\n")
    sys.stderr.flush()


OWNERS_HELP = (
    "Owners file in the format of auditor/data/owners.json (your own facts, or AdGuard's companiesdb "
    "converted by auditor import-owners); its entries win over the bundled ones."
)
OwnersOption = Annotated[Path | None, typer.Option("--owners", help=OWNERS_HELP, show_default=False)]

# Options that several commands share, declared once.
FirstPartyOption = Annotated[
    list[str] | None,
    typer.Option(
        "--first-party",
        help="Host, registrable domain or owner name of the app itself (repeatable; owner names match on whole words; "
             "wins over first_party: in a policy). Default: the top-level site of a browser capture, else guessed "
             "from where prompts go.",
    ),
]
MapOption = Annotated[
    list[str] | None,
    typer.Option(
        "--map", help="HOST=ADDR:PORT: send HOST's connections to a local address; the capture keeps HOST (repeatable)."
    ),
]
UpstreamInsecureOption = Annotated[
    bool,
    typer.Option("--upstream-insecure", help="Accept any upstream certificate (a test backend's self-signed one)."),
]
BlockUnmappedOption = Annotated[
    bool,
    typer.Option(
        "--block-unmapped", help="Refuse connections to hosts not named by --map (nothing leaves the machine)."
    ),
]
RevealOption = Annotated[
    bool, typer.Option("--reveal", help="Show personal values unmasked in every output (masked by default).")
]
PageEventsOption = Annotated[
    Path | None,
    typer.Option(
        "--page-events",
        help="page-events.jsonl of an auditor browse session (default: the one beside the first capture, if any).",
        show_default=False,
    ),
]
KeylogOption = Annotated[
    Path | None,
    typer.Option(
        "--keylog",
        help="TLS key log (NSS format, as written to SSLKEYLOGFILE) to decrypt the TLS and QUIC connections of "
             "pcap/pcapng captures. Key logs embedded in a pcapng are read without it.",
        show_default=False,
    ),
]


def use_owners(path: Path | None) -> None:
    """Consult the user's owners file (``--owners``) from now on; a bad file is a usage error."""
    if path is None:
        return
    from auditor.destinations.owners import use_owners_file

    use_owners_file(path)


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


def _load_keylog(path: Path | None, warn: Callable[[str], None]) -> Any:
    """The key log of ``--keylog``, or None; an unreadable one is a usage error (exit 2)."""
    if path is None:
        return None
    from auditor.io.tlsdecrypt import load_keylog

    return load_keylog(path, warn=warn)
