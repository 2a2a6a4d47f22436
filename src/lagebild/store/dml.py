"""Writes that are fast on both backends (the store's share of ingest time is a target).

* SQLite: `executemany` on the driver connection with a plain prepared INSERT, built
  once per table and key set. SQLAlchemy's per-call statement handling cost more than
  the inserts themselves (about 1 ms per article). Tables with date or time columns
  still go through SQLAlchemy, which stores them in its own text format.
* PostgreSQL: every write of one article goes out in a psycopg *pipeline* (`batch`):
  one multi-row `INSERT ... VALUES (...), (...)` per table, no waiting for replies
  until the end of the block, then COMMIT. That is two network round trips per
  article instead of one or more per table, which under CPU contention (server and
  client sharing cores) was most of the store's time.

Both run on the caller's connection inside its transaction, so the one-transaction-
per-article contract is unchanged; constraint violations surface as `IntegrityError`
(SQLAlchemy's or psycopg's, see `INTEGRITY_ERRORS`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Date, DateTime, Table, insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

_SQL: dict[tuple[str, str, tuple[str, ...], bool], str] = {}
_PG_CHUNK = 1000  # rows per statement: far below PostgreSQL's 65,535 parameters


def integrity_errors() -> tuple[type[BaseException], ...]:
    """Exception types that mean 'a unique or foreign key constraint said no'."""
    try:
        import psycopg

        return (IntegrityError, psycopg.IntegrityError)
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return (IntegrityError,)


@contextmanager
def batch(conn: Connection) -> Iterator[None]:
    """Send the block's writes without waiting for replies (PostgreSQL); no-op on SQLite."""
    if conn.dialect.name == "postgresql":
        with conn.connection.driver_connection.pipeline():
            yield
    else:
        yield


def _plain(table: Table) -> bool:
    return not any(isinstance(c.type, Date | DateTime) for c in table.columns)


def _sql(dialect: str, table: Table, keys: tuple[str, ...], ignore: bool, n: int = 1) -> str:
    key = (dialect, table.name, keys, ignore) if n == 1 else None
    if key and key in _SQL:
        return _SQL[key]
    cols = ", ".join(f'"{k}"' for k in keys)
    if dialect == "sqlite":
        verb = "INSERT OR IGNORE" if ignore else "INSERT"
        sql = f'{verb} INTO "{table.name}" ({cols}) VALUES ({", ".join("?" for _ in keys)})'
    else:
        row = "(" + ", ".join("%s" for _ in keys) + ")"
        sql = (f'INSERT INTO "{table.name}" ({cols}) VALUES ' + ", ".join([row] * n)
               + (" ON CONFLICT DO NOTHING" if ignore else ""))
    if key:
        _SQL[key] = sql
    return sql


def insert_rows(conn: Connection, table: Table, rows: list[dict] | dict,
                ignore_conflicts: bool = False) -> None:
    """Insert `rows` (all with the same keys); `ignore_conflicts` skips rows that would
    violate a unique key (ON CONFLICT DO NOTHING / INSERT OR IGNORE)."""
    if isinstance(rows, dict):
        rows = [rows]
    if not rows:
        return
    dialect = conn.dialect.name
    keys = tuple(rows[0])
    if dialect == "sqlite" and _plain(table):
        conn.connection.driver_connection.executemany(
            _sql(dialect, table, keys, ignore_conflicts),
            [tuple(r[k] for k in keys) for r in rows])
        return
    if dialect == "postgresql":
        cur = conn.connection.driver_connection.cursor()
        for i in range(0, len(rows), _PG_CHUNK):
            chunk = rows[i:i + _PG_CHUNK]
            cur.execute(_sql(dialect, table, keys, ignore_conflicts, len(chunk)),
                        [r[k] for r in chunk for k in keys])
        return
    if not ignore_conflicts:
        conn.execute(insert(table), rows)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        conn.execute(sqlite_insert(table).on_conflict_do_nothing(), rows)


def execute_raw(conn: Connection, sql: str, params: tuple = ()) -> None:
    """A write statement written with `?` placeholders, on the driver connection (so it
    joins a PostgreSQL pipeline instead of forcing a round trip)."""
    if conn.dialect.name == "postgresql":
        conn.connection.driver_connection.cursor().execute(sql.replace("?", "%s"), params)
    else:
        conn.connection.driver_connection.execute(sql, params)
