"""`nianbao merge WORKER_DIR... --into DIR`: fold the data folders of `nianbao worker`s into one archive.

Each worker writes its own WARC files (named after the worker: nianbao-HOST-DIGEST-...) and database. The merge
1. copies each worker's closed WARC files into `DIR/warc/` (a file already there with the same digest is skipped;
   a different file of the same name is copied under a name with its digest);
2. upserts the rows that are facts of the crawls by their natural keys: sites (key), reports (site, agency, year),
   pages (url), runs (id), alerts (run_id, channel, created), blocked answers (run_id, url, seen), site probes
   (run_id, site, probed_at), learned list APIs and agency spellings (their keys); the newer row (last seen,
   last crawled) wins a conflict, first_seen is the earliest;
3. copies the workers' capture rows (with the outcome the crawl recorded: removed, duplicate, truncated, …) and
   indexes the copied files' records from the files themselves (archive/scan.py, archive/index.py: what
   `nianbao reindex` does);
4. for a report page whose captures all come from one worker (and that the archive had no version of yet), copies
   that worker's versions, cells, checks, changes and version links under the archive's own ids: what
   re-evaluating the same captures would derive, without extracting every document again;
5. rebuilds the versions, cells, checks and changes of every other report page that got a new capture (fetched by
   two workers: a site a dead worker left half-done and another crawled again, or a page known from an earlier
   merge) from all its captures in time order (pipelines/reevaluate.py), pages in the order of their first capture
   (so a twin is found as the crawl found it): one version per distinct content and one change per transition, as
   if one machine had made every fetch;
6. recomputes the checks across reports (pipelines/crosschecks.py) of the sites concerned, over every report the
   archive holds of them.

Merging again finds every file and row already there and changes nothing. Worker folders
are only read (their database opened read-only; `.open` WARC files of a running worker are left for the next
merge).
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import sqlite_utils

from archive import index
from archive.lock import writer_lock
from archive.scan import file_rows, warc_files
from pipelines import crosschecks, database
from pipelines.database import rows_in
from pipelines.reevaluate import DETACHED, reevaluate

CAPTURE_DERIVED = ("version_id",)  # rebuilt by re-evaluation, never copied (version ids are the archive's own)


class MergeError(ValueError):
    """A folder to merge is not a worker's archive, or is the target itself."""


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _columns(con: sqlite3.Connection | sqlite_utils.Database, table: str) -> list[str]:
    execute = con.execute if isinstance(con, sqlite3.Connection) else con.conn.execute
    return [row[1] for row in execute(f'PRAGMA table_info("{table}")').fetchall()]


def _rows(src: sqlite3.Connection, table: str, order: str = "rowid") -> list[dict[str, Any]]:
    if not _columns(src, table):
        return []
    cur = src.execute(f'SELECT * FROM "{table}" ORDER BY {order}')
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _insert(db: sqlite_utils.Database, table: str, row: dict[str, Any], skip: Iterable[str] = ()) -> int:
    columns = [c for c in _columns(db, table) if c in row and c not in set(skip)]
    quoted = ", ".join(f'"{c}"' for c in columns)
    cur = db.conn.execute(f'INSERT OR IGNORE INTO "{table}" ({quoted}) VALUES ({", ".join("?" * len(columns))})',
                          [row[c] for c in columns])
    return cur.rowcount


def _update(db: sqlite_utils.Database, table: str, where: dict[str, Any], current: dict[str, Any],
            values: dict[str, Any]) -> int:
    """Set the columns of `values` that differ from `current` (nothing written when none does)."""
    changed = {c: v for c, v in values.items() if c in current and current[c] != v}
    if not changed:
        return 0
    sets = ", ".join(f'"{c}" = ?' for c in changed)
    cond = " AND ".join(f'"{c}" = ?' for c in where)
    db.conn.execute(f'UPDATE "{table}" SET {sets} WHERE {cond}', [*changed.values(), *where.values()])
    return 1


def _one(db: sqlite_utils.Database, sql: str, params: list[Any]) -> dict[str, Any] | None:
    cur = db.conn.execute(sql, params)
    row = cur.fetchone()
    return dict(zip([d[0] for d in cur.description], row, strict=True)) if row else None


def _later(a: Any, b: Any) -> bool:
    """Whether timestamp `a` is later than `b` (None is earliest)."""
    return (a or "") > (b or "")


def _earliest(*values: Any) -> Any:
    present = [v for v in values if v]
    return min(present) if present else None


def _copy_warcs(worker: Path, into: Path) -> tuple[dict[str, str], list[Path], int]:
    """Copy the worker's closed WARC files; returns (worker name -> archive name for every closed file, the files
    copied now, how many were already there)."""
    target = into / "warc"
    target.mkdir(parents=True, exist_ok=True)
    names: dict[str, str] = {}
    copied: list[Path] = []
    present = 0
    for path in warc_files(worker / "warc"):
        digest = _digest(path)
        dest = target / path.name
        if dest.exists() and _digest(dest) != digest:  # another file of that name: keep both
            dest = target / f"{path.name[:-len('.warc.gz')]}-{digest[:12]}.warc.gz"
        if dest.exists() and _digest(dest) == digest:
            present += 1
        else:
            tmp = dest.with_name(dest.name + ".merging")
            shutil.copyfile(path, tmp)
            tmp.replace(dest)
            copied.append(dest)
        names[path.name] = dest.name
    return names, copied, present


def _merge_sites(db: sqlite_utils.Database, src: sqlite3.Connection) -> None:
    for row in _rows(src, "sites"):
        current = _one(db, "SELECT * FROM sites WHERE key = ?", [row["key"]])
        if current is None:
            _insert(db, "sites", row)
            continue
        values = {c: v for c, v in row.items() if c not in ("key", "first_seen")}
        values["first_seen"] = _earliest(current.get("first_seen"), row.get("first_seen"))
        if not _later(row.get("last_crawled"), current.get("last_crawled")):
            values = {"first_seen": values["first_seen"]}
        _update(db, "sites", {"key": row["key"]}, current, values)


def _merge_reports(db: sqlite_utils.Database, src: sqlite3.Connection) -> tuple[dict[int, int], int]:
    """Worker report id -> archive report id, and how many reports were new."""
    mapping: dict[int, int] = {}
    new = 0
    for row in _rows(src, "reports", "id"):
        key = [row["site"], row["agency"], row["year"]]
        current = _one(db, "SELECT * FROM reports WHERE site = ? AND agency = ? AND year = ?", key)
        if current is None:
            _insert(db, "reports", {**row, "current_version_id": None}, skip=("id",))
            current = _one(db, "SELECT * FROM reports WHERE site = ? AND agency = ? AND year = ?", key)
            new += 1
        else:
            values = {"first_seen": _earliest(current.get("first_seen"), row.get("first_seen"))}
            if _later(row.get("last_seen"), current.get("last_seen")):
                values.update({c: v for c, v in row.items()
                               if c not in ("id", "site", "agency", "year", "first_seen", "current_version_id",
                                            "status")})
            _update(db, "reports", {"id": current["id"]}, current, values)
        mapping[row["id"]] = current["id"]
    return mapping, new


def _merge_pages(db: sqlite_utils.Database, src: sqlite3.Connection, reports: dict[int, int]) -> None:
    for row in _rows(src, "pages"):
        row = {**row, "report_id": reports.get(row["report_id"]) if row.get("report_id") is not None else None}
        current = _one(db, "SELECT * FROM pages WHERE url = ?", [row["url"]])
        if current is None:
            _insert(db, "pages", {**row, "current_version_id": None, "last_outcome": None}
                    if row["report_id"] is not None else row)
            continue
        values = {"first_seen": _earliest(current.get("first_seen"), row.get("first_seen"))}
        if _later(row.get("last_seen"), current.get("last_seen")):
            values.update({c: v for c, v in row.items()
                           if c not in ("url", "first_seen", "current_version_id", "last_outcome")})
            if values.get("report_id") is None:
                values.pop("report_id", None)
        _update(db, "pages", {"url": row["url"]}, current, values)


def _merge_captures(db: sqlite_utils.Database, src: sqlite3.Connection, names: dict[str, str],
                    copied: list[Path]) -> dict[str, set[str]]:
    """Copy the worker's capture rows of closed files (and its fetch errors, which have no record), index the
    copied files; returns the ids of the captures new to the archive, by URL."""
    rows = [r for r in _rows(src, "captures") if r.get("warc_file") is None or r["warc_file"] in names]
    file_records = [row for path in copied for row in file_rows(path)]
    ids = [r["id"] for r in rows] + [r["id"] for r in file_records]
    known: set[str] = set()
    known.update(r[0] for r in rows_in(db.conn, "SELECT id FROM captures WHERE id IN ({marks})", ids))
    new = {r["id"]: r["url"] for r in [*rows, *file_records] if r["id"] not in known}
    for row in rows:
        if row["id"] in known:
            continue
        if row.get("warc_file") is not None:
            row = {**row, "warc_file": names[row["warc_file"]]}
        _insert(db, "captures", row, skip=CAPTURE_DERIVED)
    db.conn.commit()
    if file_records:  # the records as the files hold them (what `reindex` writes); pipeline columns kept
        index.write_rows(db, file_records)
    by_url: dict[str, set[str]] = {}
    for capture_id, url in new.items():
        by_url.setdefault(url, set()).add(capture_id)
    return by_url


def _version_refs(src: sqlite3.Connection, url: str) -> set[int]:
    """The worker's version ids the page's rows cite (its captures, its current version, its changes)."""
    refs = {r[0] for r in src.execute("SELECT version_id FROM captures WHERE url = ? AND version_id IS NOT NULL",
                                      [url])}
    refs |= {r[0] for r in src.execute("SELECT current_version_id FROM pages WHERE url = ? "
                                       "AND current_version_id IS NOT NULL", [url])}
    for version_id, previous_id in src.execute("SELECT version_id, previous_version_id FROM changes "
                                               "WHERE page_url = ?", [url]):
        refs |= {v for v in (version_id, previous_id) if v is not None}
    return refs


VERSION_KEY = ("capture_id", "content_hash")  # a version derived from the same capture with the same content
CHANGE_KEY = ("kind", "detected_at", "run_id")


def _keys(cur: sqlite3.Cursor, columns: tuple[str, ...]) -> set[tuple]:
    return {tuple(row) for row in cur.fetchall()}


def _copyable(db: sqlite_utils.Database, src: sqlite3.Connection,
              new: dict[str, set[str]]) -> tuple[set[str], set[str]]:
    """Report pages with new captures whose every capture in the archive is one of this worker's, and whose
    versions and changes in the archive (from an earlier merge of the same worker) are among the worker's: the
    worker's own history of the page is then complete, and its versions and changes are what re-evaluating the same
    captures would derive, without extracting every document again. A page whose rows cite a version of a page that
    is neither such a page nor already in the archive is left to re-evaluation. Also returns the pages to leave for
    a later merge: the worker holds a version of them read from a capture the archive has not got yet (in a WARC
    file the worker is still writing), so that the archive never holds a version without its capture."""
    candidates, pending = set(), set()
    v_cols, c_cols = ", ".join(VERSION_KEY), ", ".join(CHANGE_KEY)
    for url in new:
        page = db.conn.execute("SELECT report_id, kind FROM pages WHERE url = ?", [url]).fetchone()
        if page is None or page[0] is None or page[1] not in ("report", "attachment"):
            continue
        if db.conn.execute("SELECT 1 FROM report_versions WHERE page_url = ? UNION ALL SELECT 1 FROM changes "
                           "WHERE page_url = ? LIMIT 1", [DETACHED + url, DETACHED + url]).fetchone():
            continue  # a re-evaluation of it was interrupted: let the next one finish it
        mine = {r[0] for r in src.execute("SELECT id FROM captures WHERE url = ?", [url])}
        held_captures = {r[0] for r in db.conn.execute("SELECT id FROM captures WHERE url = ?", [url])}
        if any(c not in held_captures for (c,) in src.execute(
                "SELECT capture_id FROM report_versions WHERE page_url = ? AND capture_id IS NOT NULL", [url])):
            pending.add(url)
            continue
        if not held_captures <= mine:
            continue
        held = _keys(db.conn.execute(f"SELECT {v_cols} FROM report_versions WHERE page_url = ?", [url]), VERSION_KEY)
        if not held <= _keys(src.execute(f"SELECT {v_cols} FROM report_versions WHERE page_url = ?", [url]),
                             VERSION_KEY):
            continue
        held = _keys(db.conn.execute(f"SELECT {c_cols} FROM changes WHERE page_url = ?", [url]), CHANGE_KEY)
        if not held <= _keys(src.execute(f"SELECT {c_cols} FROM changes WHERE page_url = ?", [url]), CHANGE_KEY):
            continue
        candidates.add(url)
    versions = {row[0]: row[1:] for row in src.execute(
        f"SELECT id, page_url, {v_cols} FROM report_versions")}
    refs = {url: _version_refs(src, url) for url in candidates}

    def resolvable(version_id: int) -> bool:
        found = versions.get(version_id)
        if found is None:
            return False
        return found[0] in candidates or _archived_version(db, *found) is not None

    changed = True
    while changed:  # a page citing a version that cannot be resolved is re-evaluated, and so on
        changed = False
        for url in sorted(candidates):
            if not all(resolvable(v) for v in refs[url]):
                candidates.discard(url)
                changed = True
    return candidates, pending


def _archived_version(db: sqlite_utils.Database, page_url: str, capture_id: str | None,
                      content_hash: str | None) -> int | None:
    row = db.conn.execute("SELECT id FROM report_versions WHERE page_url = ? AND capture_id IS ? AND content_hash IS ? "
                          "ORDER BY id LIMIT 1", [page_url, capture_id, content_hash]).fetchone()
    return row[0] if row else None


def _copy_derived(db: sqlite_utils.Database, src: sqlite3.Connection, urls: set[str],
                  reports: dict[int, int]) -> None:
    """Bring the archive's versions (with cells and checks), changes and version links of `urls` (see _copyable)
    to the worker's: a version or change already there (same capture and content; same kind, time and run) keeps
    its id, the others are added under new ids."""
    if not urls:
        return
    version_ids: dict[int, int] = {}
    dest_versions = set(_columns(db, "report_versions"))
    version_columns = [c for c in _columns(src, "report_versions") if c in dest_versions]
    for url in sorted(urls):
        cur = src.execute(f'SELECT {", ".join(version_columns)} FROM report_versions WHERE page_url = ? ORDER BY id',
                          [url])
        for values in cur.fetchall():
            row = dict(zip(version_columns, values, strict=True))
            row["report_id"] = reports.get(row["report_id"], row["report_id"])
            held = _archived_version(db, url, row["capture_id"], row["content_hash"])
            if held is not None:
                current = _one(db, "SELECT * FROM report_versions WHERE id = ?", [held])
                _update(db, "report_versions", {"id": held}, current,
                        {c: v for c, v in row.items() if c in ("last_seen", "first_seen", "report_id")})
                version_ids[row["id"]] = held
                continue
            columns = [c for c in version_columns if c != "id"]
            inserted = db.conn.execute(
                f'INSERT INTO report_versions ({", ".join(columns)}) VALUES ({", ".join("?" * len(columns))})',
                [row[c] for c in columns])
            version_ids[row["id"]] = inserted.lastrowid
            for table in ("cells", "checks"):
                cols = [c for c in _columns(src, table) if c in set(_columns(db, table))]
                quoted = ", ".join(f'"{c}"' for c in cols)
                rows = src.execute(f'SELECT {quoted} FROM "{table}" WHERE version_id = ?', [row["id"]]).fetchall()
                if table == "checks":  # the checks across reports are the merged site's, made again below
                    rows = [r for r in rows if r[cols.index("rule")] not in crosschecks.RULES]
                at = cols.index("version_id")
                db.conn.executemany(f'INSERT INTO "{table}" ({quoted}) VALUES ({", ".join("?" * len(cols))})',
                                    [[inserted.lastrowid if i == at else v for i, v in enumerate(r)] for r in rows])
    versions = {row[0]: row[1:] for row in src.execute("SELECT id, page_url, capture_id, content_hash "
                                                        "FROM report_versions")}

    def mapped(version_id: int | None) -> int | None:
        if version_id is None:
            return None
        if version_id in version_ids:
            return version_ids[version_id]
        return _archived_version(db, *versions[version_id])  # a twin's version held from an earlier merge

    for url in sorted(urls):
        cur = src.execute("SELECT * FROM changes WHERE page_url = ? ORDER BY id", [url])
        names = [d[0] for d in cur.description]
        for values in cur.fetchall():
            change = dict(zip(names, values, strict=True))
            if db.conn.execute("SELECT 1 FROM changes WHERE page_url = ? AND kind = ? AND detected_at IS ? "
                               "AND run_id IS ?", [url, change["kind"], change["detected_at"],
                                                   change["run_id"]]).fetchone():
                continue
            _insert(db, "changes", {**change, "report_id": reports.get(change["report_id"], change["report_id"]),
                                    "version_id": mapped(change["version_id"]),
                                    "previous_version_id": mapped(change["previous_version_id"])}, skip=("id",))
        for capture_id, version_id in src.execute(
                "SELECT id, version_id FROM captures WHERE url = ? AND version_id IS NOT NULL", [url]).fetchall():
            db.conn.execute("UPDATE captures SET version_id = ? WHERE id = ? AND version_id IS NOT ?",
                            [mapped(version_id), capture_id, mapped(version_id)])
        page = src.execute("SELECT current_version_id, last_outcome, last_capture_id, report_id FROM pages "
                           "WHERE url = ?", [url]).fetchone()
        current = _one(db, "SELECT * FROM pages WHERE url = ?", [url])
        _update(db, "pages", {"url": url}, current, {"current_version_id": mapped(page[0]), "last_outcome": page[1],
                                                     "last_capture_id": page[2]})
        report = src.execute("SELECT current_version_id, status, url FROM reports WHERE id = ?", [page[3]]).fetchone()
        if report is not None and report[0] is not None and mapped(report[0]) is not None:
            target = reports.get(page[3], page[3])
            held = _one(db, "SELECT * FROM reports WHERE id = ?", [target])
            if held is not None and (held["current_version_id"] is None or held["url"] == url):
                _update(db, "reports", {"id": target}, held, {"current_version_id": mapped(report[0]),
                                                             "status": report[1]})


def _merge_keyed(db: sqlite_utils.Database, src: sqlite3.Connection, table: str, key: tuple[str, ...],
                 skip: tuple[str, ...] = ("id",)) -> int:
    """Insert the worker's rows of `table` whose natural `key` the archive does not hold yet."""
    if table not in db.table_names():
        return 0
    added = 0
    cond = " AND ".join(f'"{c}" IS ?' for c in key)
    for row in _rows(src, table):
        if db.conn.execute(f'SELECT 1 FROM "{table}" WHERE {cond}', [row.get(c) for c in key]).fetchone():
            continue
        added += _insert(db, table, row, skip=skip)
    return added


def _merge_runs(db: sqlite_utils.Database, src: sqlite3.Connection) -> int:
    added = 0
    for row in _rows(src, "runs"):
        current = _one(db, "SELECT * FROM runs WHERE id = ?", [row["id"]])
        if current is None:
            added += _insert(db, "runs", row)
        elif _later(row.get("finished"), current.get("finished")):  # a resumed run's later row
            _update(db, "runs", {"id": row["id"]}, current, {c: v for c, v in row.items() if c != "id"})
    return added


def _open_worker(worker: Path) -> sqlite3.Connection:
    path = database.db_path(worker)
    if not path.is_file():
        raise MergeError(f"{worker} holds no worker archive (nianbao.db)")
    return sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True, timeout=30)


def merge(workers: list[str | Path], into: str | Path, wait: bool = False) -> dict[str, int]:
    """Fold the worker folders into `into` (created if needed), idempotently; returns what was added. Holds the
    target's writer lock (`archive.lock`); the worker folders are only read."""
    into = Path(into)
    folders = [Path(w) for w in workers]
    for folder in folders:
        if not folder.is_dir():
            raise MergeError(f"no worker folder {folder}")
        if folder.resolve() == into.resolve():
            raise MergeError(f"{folder} is the archive merged into: name it once, with --into")
    counts = {"files": 0, "skipped": 0, "captures": 0, "reports": 0, "pages": 0, "copied": 0, "pending": 0,
              "runs": 0, "alerts": 0}
    with writer_lock(into, wait=wait):
        db = database.connect(into)
        touched: set[str] = set()
        copied_pages: set[str] = set()
        last_seen: dict[str, str] = {}
        try:
            for folder in folders:
                src = _open_worker(folder)
                try:
                    names, copied, present = _copy_warcs(folder, into)
                    counts["files"] += len(copied)
                    counts["skipped"] += present
                    with db.conn:
                        _merge_sites(db, src)
                        report_ids, new_reports = _merge_reports(db, src)
                        counts["reports"] += new_reports
                        _merge_pages(db, src, report_ids)
                    new = _merge_captures(db, src, names, copied)
                    counts["captures"] += sum(len(ids) for ids in new.values())
                    copyable, pending = _copyable(db, src, new)
                    with db.conn:
                        _copy_derived(db, src, copyable, report_ids)
                    counts["copied"] += len(copyable)
                    copied_pages |= copyable
                    touched |= set(new) - copyable - pending
                    counts["pending"] += len(pending)
                    with db.conn:
                        counts["runs"] += _merge_runs(db, src)
                        counts["alerts"] += _merge_keyed(db, src, "alerts", ("run_id", "channel", "created"))
                        _merge_keyed(db, src, "blocked_answers", ("run_id", "url", "seen"))
                        _merge_keyed(db, src, "site_probes", ("run_id", "site", "probed_at"))
                        _merge_keyed(db, src, "learned_endpoints", ("site", "column_url", "method", "url", "body"),
                                     skip=())
                        _merge_keyed(db, src, "agency_names", ("site", "name"), skip=())
                    for url, seen in src.execute("SELECT url, last_seen FROM pages"):
                        if _later(seen, last_seen.get(url)):
                            last_seen[url] = seen
                finally:
                    src.close()
            # Report pages and files with new captures, in the order of their first capture.
            pages = [row[0] for row in db.conn.execute(
                "SELECT p.url FROM pages p JOIN captures c ON c.url = p.url WHERE p.report_id IS NOT NULL "
                "AND p.kind IN ('report', 'attachment') GROUP BY p.url ORDER BY min(c.timestamp), p.url")
                if row[0] in touched]
        finally:
            db.close()
        reevaluate(into, pages)  # the lock taken above is re-entrant
        counts["pages"] = len(pages)
        db = database.connect(into)
        try:
            # The checks across reports (pipelines/crosschecks.py) of the sites whose versions were copied, over
            # every report the archive now holds of them (re-evaluation made those of its own pages' sites).
            crosschecks.run(db, sorted(set(crosschecks.sites_of(db, copied_pages)) - set(crosschecks.sites_of(db, pages))))
            with db.conn:  # re-evaluation dates a page by its last capture; the crawl by when it saw it
                for url, seen in last_seen.items():
                    db.conn.execute("UPDATE pages SET last_seen = ? WHERE url = ? AND coalesce(last_seen, '') < ?",
                                    [seen, url, seen])
        finally:
            db.close()
    return counts
