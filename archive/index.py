"""The `captures` table: one row per WARC record (plus `error` rows for fetches that got no response)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import sqlite_utils

TABLE = "captures"

COLUMNS: dict[str, type] = {
    "id": str,
    "crawl_id": str,
    "warc_file": str,
    "offset": int,
    "length": int,
    "record_type": str,
    "url": str,
    "timestamp": str,
    "status": int,
    "reason": str,
    "mime": str,
    "payload_digest": str,
    "block_digest": str,
    "refers_to": str,
    "concurrent_to": str,
    "decoded_sha256": str,
    "content_length": int,
    "truncated": str,
    "error": str,
    # Added with revisits and conditional requests (older databases get them from `ensure_schema`).
    "profile": str,
    "refers_to_uri": str,
    "refers_to_date": str,
    "etag": str,
    "last_modified": str,
    "method": str,
}


def open_db(path: Path) -> sqlite_utils.Database:
    """Open (creating) the SQLite file in WAL mode with the `captures` table ready."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite_utils.Database(path)
    db.enable_wal()
    ensure_schema(db)
    return db


# One connection per database file and thread, shared by every component of every site crawled in this process
# (the capture extension, the archive middlewares, the pipelines): a connection holds two descriptors (the file and
# its WAL), so per-component connections cost 8 per site (issue 16 item 1). Each holder takes it with `shared_db`
# and gives it back with `release_db`; the last release closes it. The components use it from the reactor thread
# one synchronous step at a time, each committing its own transaction (`with db.conn`).
_SHARED: dict[tuple[Path, int], list[Any]] = {}  # (file, thread id) -> [db, holders, names of the preparations run]
_SHARED_LOCK = threading.Lock()


def shared_db(path: Path, prepare: Callable[[sqlite_utils.Database], None] | None = None) -> sqlite_utils.Database:
    """This thread's shared connection to `path` (opened, WAL, `captures` ready, on first use), after running
    `prepare` on it once (pipelines/database.py: its settings and migrations). Give it back with `release_db`."""
    key = (Path(path).resolve(), threading.get_ident())
    with _SHARED_LOCK:
        entry = _SHARED.get(key)
        if entry is None:
            db = open_db(Path(path))
            db.execute("PRAGMA busy_timeout = 30000")
            entry = [db, 0, set()]
            _SHARED[key] = entry
        entry[1] += 1
    db, _holders, prepared = entry
    name = getattr(prepare, "__qualname__", None) if prepare is not None else None
    if prepare is not None and name not in prepared:
        try:
            prepare(db)
        except BaseException:
            release_db(db)
            raise
        prepared.add(name)
    return db


def release_db(db: sqlite_utils.Database | None) -> None:
    """Give back a connection from `shared_db` (the last holder closes it); a connection of another origin is
    closed."""
    if db is None:
        return
    with _SHARED_LOCK:
        for key, entry in list(_SHARED.items()):
            if entry[0] is db:
                entry[1] -= 1
                if entry[1] > 0:
                    return
                del _SHARED[key]
                break
    db.close()


def shared_holders() -> dict[str, int]:
    """Open shared connections and how many components hold each (for tests and diagnostics)."""
    with _SHARED_LOCK:
        return {f"{path}#{thread}": entry[1] for (path, thread), entry in _SHARED.items()}


def ensure_schema(db: sqlite_utils.Database) -> None:
    """Create the `captures` table and its indexes if missing."""
    table = db[TABLE]
    if not table.exists():
        table.create(COLUMNS, pk="id", not_null={"record_type"})
    else:
        existing = set(table.columns_dict)
        for name, kind in COLUMNS.items():
            if name not in existing:
                table.add_column(name, kind)
    table.create_index(["url", "timestamp"], if_not_exists=True)
    table.create_index(["warc_file", "offset"], if_not_exists=True)
    table.create_index(["decoded_sha256"], if_not_exists=True)
    table.create_index(["payload_digest"], if_not_exists=True)
    table.create_index(["concurrent_to"], if_not_exists=True)


def write_rows(db: sqlite_utils.Database, rows: Iterable[dict[str, Any]]) -> None:
    """Upsert rows in one transaction, by record id: the archive's own columns (COLUMNS) are written, every other
    column of an existing row (the pipelines' `outcome`, `normalised_digest`, `version_id`) is left as it is, so
    writing a row again (reindex, salvage) is idempotent and keeps what was derived from it."""
    rows = list(rows)
    if not rows:
        return
    unknown = {key for row in rows for key in row} - set(COLUMNS)
    if unknown:
        raise ValueError(f"not columns of {TABLE}: {sorted(unknown)}")
    names = list(COLUMNS)
    quoted = ", ".join(f'"{name}"' for name in names)
    updates = ", ".join(f'"{name}" = excluded."{name}"' for name in names if name != "id")
    sql = (f"INSERT INTO {TABLE} ({quoted}) VALUES ({', '.join('?' * len(names))}) "
           f"ON CONFLICT(id) DO UPDATE SET {updates}")
    with db.conn:
        db.conn.executemany(sql, [[row.get(name) for name in names] for row in rows])


def rows_without_record(db: sqlite_utils.Database, ids: set[str]) -> list[dict[str, Any]]:
    """Rows of the table whose id is not in `ids` (the records a reindex found): their record is gone or sits in a
    file that is not closed. Reindex reports them and keeps them (and their pipeline state)."""
    rows = db.execute(f"SELECT id, record_type, url, warc_file, timestamp FROM {TABLE} ORDER BY timestamp, id")
    keys = ("id", "record_type", "url", "warc_file", "timestamp")
    return [dict(zip(keys, row, strict=True)) for row in rows if row[0] not in ids]


def _normalise_at(at: str) -> str:
    """Accept `YYYYMMDDhhmmss` (any prefix, e.g. `2024`) or ISO; return the latest ISO instant it covers."""
    digits = re.sub(r"\D", "", at)[:20]
    if len(digits) < 4:
        raise ValueError(f"unrecognised timestamp: {at!r}")
    d = digits + "99991231235959999999"[len(digits):]
    return f"{d[0:4]}-{d[4:6]}-{d[6:8]}T{d[8:10]}:{d[10:12]}:{d[12:14]}.{d[14:20]}Z"


def latest_capture(db: sqlite_utils.Database, url: str, at: str | None = None) -> dict[str, Any] | None:
    """The most recent response/revisit row for `url`, at or before `at` when given, else None.

    `at` is `YYYYMMDDhhmmss` (a prefix like `2024` means the end of that period) or an ISO timestamp.
    """
    sql = f"select * from {TABLE} where url = ? and record_type in ('response', 'revisit')"
    params: list[Any] = [url]
    if at:
        sql += " and timestamp <= ?"
        params.append(_normalise_at(at))
    sql += " order by timestamp desc, rowid desc limit 1"
    rows = list(db.query(sql, params))
    return rows[0] if rows else None
