"""Writing a redacted copy of a capture: :func:`redact_capture`.

The source is read through the bounded opener (:func:`auditor.io.open_bounded`, with the
:class:`auditor.limits.Limits` of the run), redacted format by format (:mod:`.formats`), written
owner-only and atomically (:class:`auditor.io.Outputs`), compressed the way the source was, and
checked (:func:`.leftovers.check_redacted`) before it replaces the output.
"""

from __future__ import annotations

import gzip
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from auditor.classifiers.known import KnownValue
from auditor.io import InputError, Opened, Outputs, open_bounded
from auditor.io.capture import _mapped, detect_format
from auditor.limits import DEFAULT_LIMITS, Limits
from auditor.redact.errors import RedactError
from auditor.redact.formats import redact_flows, redact_har
from auditor.redact.leftovers import check_redacted
from auditor.redact.rewriting import Redactor, Warn

__all__ = ["RedactionSummary", "redact_capture"]


@dataclass
class RedactionSummary:
    """What a redaction did."""

    source: str
    output: str
    format: str
    exchanges: int
    values: dict[str, int]  # distinct values replaced, per category
    replacements: int
    warnings: list[str] = field(default_factory=list)
    originals: list[str] = field(default_factory=list, repr=False)  # kept in memory only, for checks
    categories: dict[str, list[str]] = field(default_factory=dict)  # data categories per host, before
    leftovers: int = 0  # original values still found in the copy (then nothing was written)
    after: dict[str, list[str]] | None = None  # data categories per host in the copy, if checked


class _Deflater:
    """A binary writer that zlib-compresses what it is given into ``raw`` (for ``.zhar``)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.z = zlib.compressobj(9)

    def write(self, data: bytes) -> int:
        self.raw.write(self.z.compress(data))
        return len(data)

    def close(self) -> None:
        self.raw.write(self.z.flush())


@contextmanager
def _wrapped(raw: IO[bytes], wrapper: str | None) -> Iterator[IO[bytes]]:
    """``raw``, compressed the way the source was (gzip, zlib) so the copy has the same form."""
    if wrapper == "gzip":
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as g:
            yield g  # type: ignore[misc]
    elif wrapper == "zlib":
        d = _Deflater(raw)
        yield d  # type: ignore[misc]
        d.close()
    else:
        yield raw


def _open_source(source: str | Path, name: str, limits: Limits) -> Opened:
    try:
        opened = open_bounded(source, max_inflated=limits.max_capture_inflated)
    except InputError as e:
        raise RedactError(str(e)) from None
    fmt = detect_format(opened.head)
    problem = None
    if not opened.head:
        problem = f"{name}: empty file, not a capture"
    elif opened.wrapper == "zip":
        problem = f"{name}: zip archives cannot be redacted (unzip the HAR and its bodies first)"
    elif fmt == "pcap":
        problem = f"{name}: pcap captures cannot be redacted (only mitmproxy flow files and HAR)"
    elif fmt not in ("har", "mitmproxy"):
        problem = f"{name}: unrecognized format (expected a mitmproxy flow file or HAR)"
    if problem is not None:
        opened.close()
        raise RedactError(problem)
    return opened


def redact_capture(
    source: str | Path,
    output: str | Path,
    *,
    key: bytes | None = None,
    warn: Warn | None = None,
    known: Iterable[KnownValue] = (),
    limits: Limits | None = None,
    verify: bool = True,
) -> RedactionSummary:
    """Write a redacted copy of ``source`` (flow file or HAR; ``-`` for standard input) to
    ``output``, owner-only.

    The source is read through the bounded reader (``limits``, as ``auditor report`` does);
    ``known`` values (``--known``) are replaced wherever they occur, as are the values found.
    With ``verify``, the copy is checked (:func:`check_redacted`) before it replaces
    ``output``: if an original value is still in it, nothing is written and the summary's
    ``leftovers`` says how many. Raises :class:`RedactError` with a one-line message.
    """
    limits = limits or DEFAULT_LIMITS
    dst = Path(output)
    name = "standard input" if str(source) == "-" else str(source)
    warnings: list[str] = []

    def _warn(msg: str) -> None:
        warnings.append(msg)
        if warn is not None:
            warn(msg)

    try:
        if str(source) != "-" and dst.exists() and Path(source).resolve() == dst.resolve():
            raise RedactError(f"{dst}: the output would overwrite the capture itself")
    except OSError:
        pass
    r = Redactor(name, key, _warn, limits)
    for k in known:
        r.placeholders.add(k.value, k.category)
        r.placeholders.any_case.add(k.value)
    opened = _open_source(source, name, limits)
    fmt = detect_format(opened.head) or ""
    outs = Outputs()
    try:
        with (
            opened,
            _mapped(opened.file) as buf,
            outs.open_binary(dst) as raw,
            _wrapped(raw, opened.wrapper) as fh,
        ):
            if fmt == "har":
                redact_har(r, buf, name, fh)
            else:
                redact_flows(r, buf, name, _warn, fh)
        summary = _summary(r, name, dst, fmt, warnings)
        r.release()  # (the check below audits the copy: the first audit's memory goes first)
        if verify:
            check = check_redacted(outs.temporary(dst), summary.originals, limits)
            summary.leftovers = len(check.leftovers)
            summary.after = {d["host"]: d["data_categories"] for d in check.document["destinations"]}
            if check.leftovers:
                outs.discard()
                return summary
        outs.commit()
    except OSError as e:
        outs.discard()
        raise RedactError(f"cannot write {dst}: {e.strerror or e}") from None
    except BaseException:
        outs.discard()
        raise
    return summary


def _summary(r: Redactor, name: str, dst: Path, fmt: str, warnings: list[str]) -> RedactionSummary:
    if r.partial_bodies:
        r.warn(
            f"{Path(name).name}: {r.partial_bodies} body(ies) could not be fully decoded or re-encoded; "
            "their readable part was redacted and kept"
        )
    if r.cut:
        r.warn(
            f"{Path(name).name}: {r.cut} value(s) over the body limit ({r.limits.max_body:,} bytes) were cut there "
            "in the copy (their first part redacted, the rest left out; raise --max-body-mb to keep more)"
        )
    if r.placeholders.undetected:
        cats = Counter(c for c, _ in r.placeholders.undetected)
        r.warn(
            f"{Path(name).name}: no placeholder the classifiers still detect was found for "
            + ", ".join(f"{n} {c} value(s)" for c, n in sorted(cats.items()))
            + "; they were replaced anyway"
        )
    per_cat: Counter[str] = Counter()
    for entry in r.placeholders.entries.values():
        per_cat[entry.categories[0]] += 1
    return RedactionSummary(
        source=name,
        output=str(dst),
        format=fmt,
        exchanges=r.exchanges,
        values=dict(sorted(per_cat.items())),
        replacements=r.sub.replacements if r.sub else 0,
        warnings=warnings,
        originals=list(r.placeholders.entries) + list(r.placeholders.extra),
        categories={d.host: sorted(d.data_categories) for d in r.auditor.resolver.by_host.values()},
    )
