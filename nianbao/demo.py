"""`nianbao demo`: the main job end to end on the bundled demo portal.

Starts the portal on free loopback ports, writes its sites to `<data>/demo-sites.yaml`, crawls every site into the
data folder, compares what was found with the portal's manifest, prints a summary and what to do next.
"""

from __future__ import annotations

import json
import shutil
from contextlib import contextmanager
from pathlib import Path

from crawler.sites import parse_sites, write_sites

DEMO_DELAY = 0.05
DEMO_PORT = 8800


def demo_sites(portal, delay: float) -> list:
    entries = []
    for entry in portal.site_entries():
        entry = {k: v for k, v in entry.items() if k in ("name", "key", "start_urls", "site_code", "region", "cms")}
        entry["download_delay"] = delay
        entries.append(entry)
    return list(parse_sites(entries, "demo portal").values())


def compare_with_manifest(data_dir: Path, manifest: dict, since: str = "") -> dict:
    """How much of the manifest a crawl found (pages seen since `since`): reports, attachments, and
    anything counted as a report that is not one."""
    from pipelines import database

    db = database.connect(data_dir)
    try:
        def urls(sql: str) -> set[str]:
            return {row[0] for row in db.execute(sql, [since]).fetchall()}

        # A page re-checked and found gone (404) was seen, but as removed: it is not a found report.
        found_pages = urls("SELECT url FROM pages WHERE kind = 'report' AND last_seen >= ? "
                           "AND coalesce(last_outcome, '') != 'removed'")
        found_reports = urls("SELECT url FROM reports WHERE last_seen >= ? AND coalesce(status, '') != 'removed'")
        found_files = urls("SELECT url FROM pages WHERE kind = 'attachment' AND sha256 IS NOT NULL AND last_seen >= ?")
    finally:
        db.close()
    expected = {r["url"] for r in manifest["reports"]}
    expected_files = {a["url"] for r in manifest["reports"] for a in r.get("attachments", [])}
    found_any = found_pages | found_reports
    return {
        "reports_expected": len(expected),
        "reports_found": len(expected & found_any),
        "reports_missed": sorted(expected - found_any),
        "attachments_expected": len(expected_files),
        "attachments_found": len(expected_files & found_files),
        "attachments_missed": sorted(expected_files - found_files),
        "false_reports": sorted(found_any - expected - expected_files),
    }


def not_extracted(data_dir: Path, manifest: dict) -> list[tuple[str, str]]:
    """Manifest reports of the 2019/2021 templates whose tables no page of theirs (report page or attachment)
    yielded in its current version: (url, why)."""
    from pipelines import database

    db = database.connect(data_dir)
    try:
        out = []
        for report in manifest["reports"]:
            if report.get("template") not in ("2019", "2021"):
                continue
            row = db.execute(
                "SELECT max((SELECT count(*) FROM cells c WHERE c.version_id = p.current_version_id)), "
                "group_concat(DISTINCT v.extraction_status || ': ' || coalesce(v.extraction_message, '')) "
                "FROM pages p JOIN pages r ON r.report_id = p.report_id "
                "LEFT JOIN report_versions v ON v.id = p.current_version_id WHERE r.url = ?",
                [report["url"]]).fetchone()
            if not row or not row[0]:
                out.append((report["url"], (row[1] if row and row[1] else "no version with tables")))
        return out
    finally:
        db.close()


class DemoRefused(Exception):
    """The demo cannot run as asked (ports taken, a data folder of another portal): exit 2 with the reason."""


def _ports_of_earlier_runs(data_dir: Path) -> set[int]:
    from urllib.parse import urlsplit

    sites_file = data_dir / "demo-sites.yaml"
    if not sites_file.exists():
        return set()
    ports = set()
    for line in sites_file.read_text(encoding="utf-8").splitlines():
        if "http://127.0.0.1:" in line:
            url = line[line.index("http://"):].strip().strip("'\"[],")
            if urlsplit(url).port:
                ports.add(urlsplit(url).port)
    return ports


@contextmanager
def start_portal(edition: int, port: int):
    """The portal on its usual ports, so that runs into one data folder see the same URLs (change detection
    compares pages by URL). Ports taken: refused, never a silent move to other ports (the runs of one data
    folder would then not be comparable)."""
    from nianbao.portal.server import Portal

    portal = Portal(port=port, edition=edition)
    try:
        portal.start()
    except OSError as exc:
        portal.stop()
        raise DemoRefused(f"port {port} or one of the next three is taken ({exc.strerror}): stop what uses it, "
                          f"or run the demo on other ports with --port N and a new --data folder") from exc
    try:
        yield portal
    finally:
        portal.stop()


def run_demo(data_dir: str | Path, edition: int = 1, delay: float | None = None, port: int = DEMO_PORT,
             notify: list[str] | None = None, link_base: str | None = None) -> int:
    from nianbao.runner import format_summary, run_crawl

    data_dir = Path(data_dir)
    earlier = _ports_of_earlier_runs(data_dir)
    wanted = set(range(port, port + 4))
    if earlier and not earlier <= wanted:
        raise DemoRefused(f"{data_dir} holds demo runs against ports {', '.join(map(str, sorted(earlier)))}, not "
                          f"{port}–{port + 3}: their pages could not be compared with this run's; use the same "
                          f"--port or a new --data folder")
    data_dir.mkdir(parents=True, exist_ok=True)
    with start_portal(edition, port) as portal:
        sites = demo_sites(portal, DEMO_DELAY if delay is None else delay)
        write_sites(sites, data_dir / "demo-sites.yaml")
        manifest = portal.manifest()
        (data_dir / f"demo-manifest-edition{edition}.json").write_text(
            json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        print(f"Demo portal (edition {edition}) serving {len(sites)} sites on loopback:")
        for site in sites:
            print(f"  {site.key:10} {site.name}  {site.start_urls[0]}")
        result = run_crawl(sites, data_dir, notify=notify, link_base=link_base)
    print(format_summary(result))
    check = compare_with_manifest(data_dir, manifest, since=result.started)
    print(f"\nAgainst the portal's manifest: {check['reports_found']}/{check['reports_expected']} reports and "
          f"{check['attachments_found']}/{check['attachments_expected']} attachments found, "
          f"{len(check['false_reports'])} non-report(s) counted as reports.")
    for url in check["reports_missed"][:10]:
        print(f"  missed report: {url}")
    for url in check["attachments_missed"][:10]:
        print(f"  missed attachment: {url}")
    for url in check["false_reports"][:10]:
        print(f"  not a report: {url}")
    warcs = sorted((data_dir / "warc").glob("*.warc.gz"))
    print(f"\nArchive: {len(warcs)} WARC file(s) in {data_dir / 'warc'}; database {data_dir / 'nianbao.db'}.")
    print("Next:" if shutil.which("nianbao") else
          "Next (the commands are in .venv/bin/; `. .venv/bin/activate` puts them on your PATH):")
    print(f"  nianbao serve --data {data_dir}          # browse the archive at http://127.0.0.1:8001/nianbao "
          "(reports: /-/nianbao/report/ID)")
    print(f"  sqlite3 {data_dir / 'nianbao.db'} 'select site, agency, year, title from reports'")
    print(f"  nianbao show URL --data {data_dir}          # an archived capture, from the WARC")
    if edition == 1:
        print(f"  nianbao demo --edition 2 --data {data_dir}   # crawl the portal's later edition into the same data")
    unread = not_extracted(data_dir, manifest)
    if unread:
        print(f"\n{len(unread)} report(s) of the manifest without their tables extracted:")
        for url, why in unread[:20]:
            print(f"  not extracted: {url}  ({why})")
    complete = (not check["reports_missed"] and not check["attachments_missed"] and not check["false_reports"]
                and not unread)
    return 0 if complete else 1
