"""``auditor batch``: audit many apps' captures into one Parquet dataset.

Inputs (:mod:`.inputs`) become tasks, one per capture; each task audits its capture exactly as
``auditor report`` does and writes its rows (:mod:`.tables`) into the dataset (:mod:`.dataset`),
keyed by the capture's content hash and auditor's version, so a rerun skips what is there and a
killed run resumes without duplicates. Tasks run in a local process pool or on a Dask cluster
(:mod:`.run`). The dataset is queried with DuckDB (:mod:`.query`) and summarized in a cross-app
report (:mod:`.summary`). The schema is in ``docs/batch.md``.
"""

BATCH_SCHEMA_VERSION = 1
TABLES: tuple[str, ...] = ("captures", "exchanges", "findings", "destinations", "apps")
