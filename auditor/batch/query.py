"""SQL over the dataset with DuckDB (embedded): every table is a view of the same name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from auditor.batch import TABLES
from auditor.errors import AuditorError


class QueryError(AuditorError, ValueError):
    """Bad SQL or a dataset DuckDB cannot read (one line for the user)."""


def connect(dataset: str | Path) -> Any:
    try:
        import duckdb
    except ImportError:
        raise QueryError("querying a dataset needs DuckDB: pip install 'auditor[batch]'") from None
    root = Path(dataset)
    if not (root / "captures").is_dir():
        raise QueryError(f"{root}: not an auditor batch dataset (no captures/ folder)")
    con = duckdb.connect()
    for table in TABLES:
        pattern = root / table / "app=*" / "*.parquet"
        if any(root.glob(f"{table}/app=*/*.parquet")):
            con.execute(
                f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{pattern}', "
                "hive_partitioning = false, union_by_name = true)"
            )
        else:
            from auditor.batch.tables import SCHEMAS

            cols = ", ".join(f"CAST(NULL AS {_duck(t.type)}) AS {t.name}" for t in SCHEMAS[table])
            con.execute(f"CREATE VIEW {table} AS SELECT {cols} WHERE false")
    return con


def _duck(t: Any) -> str:
    import pyarrow as pa

    if pa.types.is_list(t):
        return "VARCHAR[]"
    if pa.types.is_integer(t):
        return "BIGINT"
    if pa.types.is_floating(t):
        return "DOUBLE"
    if pa.types.is_boolean(t):
        return "BOOLEAN"
    return "VARCHAR"


def query(dataset: str | Path, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run ``sql``; returns (column names, rows). Raises :class:`QueryError`."""
    con = connect(dataset)
    try:
        import duckdb

        try:
            cur = con.execute(sql)
        except duckdb.Error as e:
            raise QueryError(f"SQL: {str(e).splitlines()[0]}") from None
        if cur.description is None:
            return [], []
        return [d[0] for d in cur.description], cur.fetchall()
    finally:
        con.close()
