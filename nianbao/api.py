"""The Python API, which the `nianbao` command wraps: `Archive` reads a data folder, `crawl` runs a crawl.

    import nianbao

    archive = nianbao.Archive("data")
    for report in archive.reports(year=2024):
        print(report["agency"], report["title"])
    result = nianbao.crawl(["xicheng"], "data")     # may be called again in the same process
    print(result.shortfalls() or "complete")
"""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlite_utils

from crawler.registry import Registry, Selection, load_registry
from crawler.sites import SiteConfig, SitesError, parse_site
from pipelines import database, queries, search
from pipelines.reevaluate import resolve_version_id
from pipelines.versions import cells_of, sections_of

if TYPE_CHECKING:
    from nianbao.probing import ProbeResult
    from nianbao.runner import RunResult


class ArchiveNotFound(FileNotFoundError):
    """The folder holds no archive (nothing is created in it)."""


def find_archive(data_dir: str | Path, need: str = "db") -> Path:
    """The data folder when it holds what a reader needs ("db": nianbao.db; "archive": warc/ or nianbao.db);
    otherwise ArchiveNotFound, creating nothing."""
    data = Path(data_dir)
    hint = (f"point at an existing archive, or make one with `nianbao crawl --data {data}` (or `nianbao demo "
            f"--data {data}`) first")
    if not data.is_dir():
        raise ArchiveNotFound(f"no data folder {data}: {hint}")
    db = data / "nianbao.db"
    if need == "db" and not db.is_file():
        raise ArchiveNotFound(f"{data} holds no archive database (nianbao.db): {hint}")
    if need == "archive" and not (db.is_file() or (data / "warc").is_dir()):
        raise ArchiveNotFound(f"{data} holds no archive (neither warc/ nor nianbao.db): {hint}")
    return data


class Archive:
    """A data folder's archive, for reading: every method returns plain data (dicts and lists)."""

    def __init__(self, data_dir: str | Path = "data") -> None:
        self.path = find_archive(data_dir)
        self._db: sqlite_utils.Database | None = None

    @property
    def db(self) -> sqlite_utils.Database:
        if self._db is None:
            self._db = database.connect(self.path)
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _rows(self, sql: str, params: Iterable[Any] = ()) -> list[dict[str, Any]]:
        return [dict(row) for row in self.db.query(sql, list(params))]

    def sites(self) -> list[dict[str, Any]]:
        return self._rows("SELECT * FROM sites ORDER BY key")

    def reports(self, site: str | None = None, year: int | None = None,
                agency: str | None = None) -> list[dict[str, Any]]:
        """Reports (one per site, agency and data year), with their current version id and status."""
        where, params = ["1 = 1"], []
        for column, value in (("site", site), ("year", year), ("agency", agency)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        return self._rows(f"SELECT * FROM reports WHERE {' AND '.join(where)} ORDER BY site, agency, year", params)

    def versions(self, report_id: int | None = None, url: str | None = None) -> list[dict[str, Any]]:
        """Stored versions (without their text), of one report or one page, oldest first."""
        where, params = ["1 = 1"], []
        if report_id is not None:
            where.append("report_id = ?")
            params.append(report_id)
        if url is not None:
            where.append("page_url = ?")
            params.append(url)
        columns = [c.name for c in self.db["report_versions"].columns if c.name not in ("text", "normalised_text")]
        return self._rows(f"SELECT {', '.join(columns)} FROM report_versions WHERE {' AND '.join(where)} "
                          "ORDER BY id", params)

    def version(self, version_id: int) -> dict[str, Any] | None:
        """One version with its text, sections and cells (an id merged by `reevaluate` resolves)."""
        resolved = resolve_version_id(self.db, version_id)
        if resolved is None:
            return None
        row = self._rows("SELECT * FROM report_versions WHERE id = ?", [resolved])[0]
        row["sections"] = sections_of(row.get("text"), row.get("sections"))
        row["cells"] = cells_of(self.db, resolved)
        return row

    def cells(self, version_id: int) -> list[dict[str, Any]]:
        """The table cells of a version (table, row, column keys of docs/templates.md; value)."""
        return cells_of(self.db, version_id)

    def checks(self, version_id: int | None = None) -> list[dict[str, Any]]:
        """Consistency-rule (勾稽关系) results, of one version or all."""
        if version_id is None:
            rows = self._rows("SELECT * FROM checks ORDER BY version_id, rule")
        else:
            rows = self._rows("SELECT * FROM checks WHERE version_id = ? ORDER BY rule", [version_id])
        for row in rows:
            if isinstance(row.get("detail"), str) and row["detail"].startswith(("{", "[")):
                row["detail"] = json.loads(row["detail"])
        return rows

    def changes(self, since: str | None = None, kinds: tuple[str, ...] | None = None,
                run_id: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        """Changes (new, changed, restored, removed) with their cell and text diffs, oldest first."""
        return queries.changes(self.db, since=since, kinds=kinds, run_id=run_id, limit=limit)

    def history(self, url: str) -> dict[str, Any]:
        """A page's fetches with their outcomes, and its versions."""
        return queries.history(self.db, url)

    def search(self, query: str, limit: int = 50) -> list[dict[str, Any]]:
        """Current report versions whose title or text holds every term (Chinese included)."""
        return search.search(self.db, query, limit=limit)

    def captures(self, url: str | None = None) -> list[dict[str, Any]]:
        """Rows of the WARC index, of one URL or all, in capture order."""
        if url is None:
            return self._rows("SELECT * FROM captures ORDER BY timestamp, rowid")
        return self._rows("SELECT * FROM captures WHERE url = ? ORDER BY timestamp, rowid", [url])

    def probes(self, site: str | None = None, latest: bool = True) -> list[dict[str, Any]]:
        """Visits of home pages by `nianbao sites probe` (site_probes): the last one of each site (or of `site`),
        or with `latest=False` every one, oldest first."""
        from pipelines.probes import all_probes, latest_probes

        return latest_probes(self.db, [site] if site else None) if latest else all_probes(self.db, site)

    def runs(self) -> list[dict[str, Any]]:
        """Crawl runs, with their counts and per-site summaries."""
        rows = self._rows("SELECT * FROM runs ORDER BY started")
        for row in rows:
            row["summary"] = json.loads(row["summary"] or "[]")
        return rows


def select_sites(region: str | None = None, level: str | None = None,
                 registry: str | Path | Registry | None = None) -> Selection:
    """The sites of a region (a province, prefecture or county name, the full name such as 北京市西城区, or a
    division-code prefix such as 3501) and every place below it, of `level` (province, prefecture, county) when
    given, in division-code order: `.sites`, `.crawlable`, `.not_crawlable`, and `.places` (more than one when
    the name is ambiguous, such as 朝阳区). `registry`: a sites file over the bundled registry (or alone, when it
    says `bundled: false`), or a loaded Registry."""
    known = registry if isinstance(registry, Registry) else load_registry(registry)
    return known.select(region, level)


def resolve_sites(sites: Iterable[SiteConfig | dict | str] | str | Path | None = None,
                  registry: str | Path | Registry | None = None, *, region: str | None = None,
                  level: str | None = None) -> list[SiteConfig]:
    """Sites to crawl from SiteConfig objects, site entries (dicts), keys (division codes, aliases) of `registry`
    (the bundled registry by default; a sites file is layered over it), or a sites file path (its own sites).
    With `region` and/or `level`: every crawlable site of that region (see select_sites); an ambiguous region
    name raises SitesError. None and no region: the registry's default sites (a file's own, else the curated)."""
    if isinstance(sites, str | Path) and Path(sites).suffix in (".yaml", ".yml"):
        if region is None and level is None:
            file_registry = load_registry(sites)
            return [file_registry.sites[key] for key in file_registry.default]
        registry, sites = sites, None
    known = registry if isinstance(registry, Registry) else load_registry(registry)
    if region is not None or level is not None:
        if sites is not None:
            raise SitesError("name sites or a region, not both")
        selection = known.select(region, level)
        if len(selection.places) > 1:
            raise SitesError(f"{region} names {len(selection.places)} places ({'; '.join(selection.places)}): "
                             "give the full name or the division code")
        if not selection.sites:
            raise SitesError(f"no site of {region or 'the registry'} in {known.source}")
        return selection.crawlable
    if sites is None:
        return [known.sites[key] for key in known.default if not known.sites[key].disabled]
    if isinstance(sites, str):
        sites = [sites]
    out = []
    for i, site in enumerate(sites, 1):
        if isinstance(site, SiteConfig):
            out.append(site)
        elif isinstance(site, dict):
            out.append(parse_site(site, f"site #{i}"))
        else:
            found = known.lookup([site])[0]
            if found.disabled:
                raise SitesError(f"{found.key} {found.region or found.name} is not crawlable: {found.disabled}; "
                                 "give its entry (with its division_code) in a sites file")
            out.append(found)
    return out


def crawl(sites: Iterable[SiteConfig | dict | str] | str | Path | None = None, data_dir: str | Path = "data", *,
          overrides: dict[str, Any] | None = None, notify: list[str] | None = None, link_base: str | None = None,
          resume: bool = False, wait: bool = False, isolate: bool = True, region: str | None = None,
          level: str | None = None, registry: str | Path | Registry | None = None) -> RunResult:
    """Crawl `sites` (see resolve_sites: keys, entries, a sites file; or every crawlable site of `region` and
    `level`, e.g. `crawl(region="北京市", level="county")`) into `data_dir` and return the run's result;
    `result.shortfalls()` says what is incomplete. Scrapy's reactor cannot start twice in a process, so by default the crawl runs in
    a child process (its logging stays there and in data/logs/), and `crawl` can be called again. With
    `isolate=False` it runs in this process, once: what the command line does."""
    from nianbao.runner import run_crawl  # Scrapy, imported only by what crawls

    chosen = resolve_sites(sites, registry, region=region, level=level)
    args = (chosen, str(data_dir), overrides, notify, link_base, resume, wait)
    if not isolate:
        return run_crawl(*args)
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as child:
        return child.submit(run_crawl, *args).result()


def probe(sites: Iterable[SiteConfig | dict | str] | str | Path | None = None, data_dir: str | Path = "data", *,
          region: str | None = None, level: str | None = None, registry: str | Path | Registry | None = None,
          overrides: dict[str, Any] | None = None, wait: bool = False, isolate: bool = True) -> ProbeResult:
    """Visit the home page (first start URL) of each site (see resolve_sites) once, politely and archived, and
    record in `data_dir`'s `site_probes` whether it answered (status or error), the final URL, the 政府网站标识码
    it states and a 年报 column link; `result.failures()` lists those that did not answer. Like `crawl`, it runs
    in a child process unless `isolate=False`."""
    from nianbao.probing import run_probe

    chosen = resolve_sites(sites, registry, region=region, level=level)
    args = (chosen, str(data_dir), overrides, wait)
    if not isolate:
        return run_probe(*args)
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as child:
        return child.submit(run_probe, *args).result()
