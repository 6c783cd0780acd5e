"""The Parquet dataset on disk: one folder per table, hive-partitioned by app.

``TABLE/app=<app>/<sha>-<ver>.parquet``: ``<sha>`` is the capture's content hash and ``<ver>`` a
hash of auditor's version and the version of its data, so a capture audited again by the same
auditor is skipped, and an upgrade re-audits it (its older files are replaced). An input that
failed has only ``captures/app=<app>/<sha>-<ver>.error.parquet`` and is tried again on a rerun.

Every file is written under a temporary name and renamed; the ``captures`` file is renamed last,
so it marks a complete input. :meth:`Dataset.recover` removes what a killed run left: temporary
files, and rows of inputs whose ``captures`` file never appeared.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from functools import cache
from pathlib import Path
from urllib.parse import quote, unquote

import pyarrow as pa
import pyarrow.parquet as pq

from auditor import __version__
from auditor.batch import TABLES
from auditor.errors import AuditorError

DATA_FILES = Path(__file__).resolve().parent.parent / "data"
_TMP = re.compile(r"\.tmp-\d+-\d+$")


@cache
def data_version() -> str:
    """A hash of auditor's reference data files (owners, lexicons, jurisdictions...)."""
    h = hashlib.sha256()
    for f in sorted(DATA_FILES.glob("*.json")):
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


@cache
def version_tag() -> str:
    return hashlib.sha256(f"{__version__}|{data_version()}".encode()).hexdigest()[:12]


def partition(app: str) -> str:
    return "app=" + quote(app, safe="")


def app_of(folder: str) -> str:
    return unquote(folder.removeprefix("app="))


class DatasetError(AuditorError, ValueError):
    """The output directory cannot hold a dataset (one line for the user)."""


class Dataset:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        if self.root.exists() and not self.root.is_dir():
            raise DatasetError(f"{self.root}: not a directory")
        if self.root.is_dir() and any(self.root.iterdir()) and not (self.root / "captures").is_dir():
            raise DatasetError(f"{self.root}: not empty and not an auditor batch dataset (no captures/ folder)")

    def path(self, table: str, app: str, name: str) -> Path:
        return self.root / table / partition(app) / name

    def done(self, app: str, name: str) -> bool:
        """Whether an input with this file name was audited completely (not only failed)."""
        return self.path("captures", app, f"{name}.parquet").is_file()

    def write(self, app: str, name: str, tables: dict[str, pa.Table], failed: bool = False) -> None:
        """Write one input's tables atomically per file; ``captures`` last. Older files of the same
        capture (same content hash, another auditor version) are removed first."""
        sha = name.split("-", 1)[0]
        for table in TABLES:
            folder = self.root / table / partition(app)
            if folder.is_dir():
                for old in folder.glob(f"{sha}-*.parquet"):
                    if old.name.split(".", 1)[0] != name or old.name.endswith(".error.parquet"):
                        old.unlink(missing_ok=True)
        order = [t for t in tables if t != "captures"] + ["captures"]
        suffix = ".error.parquet" if failed else ".parquet"
        for table in order:
            target = self.path(table, app, name + suffix)
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}-{id(tables)}")
            pq.write_table(tables[table], tmp)
            os.chmod(tmp, 0o600)
            os.replace(tmp, target)

    def write_app(self, app: str, summary: pa.Table) -> None:
        target = self.path("apps", app, "summary.parquet")
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = target.with_name(f"summary.parquet.tmp-{os.getpid()}-0")
        pq.write_table(summary, tmp)
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)

    def sweep_temporary(self) -> int:
        """Remove the temporary files of writers that were killed mid-write (a crashed worker's
        files, retried elsewhere): only once no writer of this dataset runs. Returns how many."""
        removed = 0
        for f in self.root.glob("*/app=*/*"):
            if _TMP.search(f.name):
                f.unlink(missing_ok=True)
                removed += 1
        return removed

    def recover(self) -> int:
        """Remove what a killed run left behind; returns how many files were removed."""
        if not self.root.is_dir():
            return 0
        removed = self.sweep_temporary()
        complete: set[tuple[str, str]] = set()
        for f in self.root.glob("captures/app=*/*.parquet"):
            complete.add((f.parent.name, f.name.removesuffix(".error.parquet").removesuffix(".parquet")))
        for table in TABLES:
            if table in ("captures", "apps"):
                continue
            for f in self.root.glob(f"{table}/app=*/*.parquet"):
                if (f.parent.name, f.name.removesuffix(".parquet")) not in complete:
                    f.unlink(missing_ok=True)
                    removed += 1
        return removed

    def apps(self) -> list[str]:
        folder = self.root / "captures"
        return sorted(app_of(p.name) for p in folder.glob("app=*")) if folder.is_dir() else []

    def files(self, table: str, app: str | None = None) -> list[Path]:
        pattern = f"{table}/{partition(app) if app is not None else 'app=*'}/*.parquet"
        return sorted(self.root.glob(pattern))

    def remove(self) -> None:
        shutil.rmtree(self.root)
