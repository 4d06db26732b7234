"""Run one crawl of several portals in one process: a Scrapy crawler per site, all at once.

Each site gets its own crawler (its own downloader, so politeness is per portal), with the site's delay and
concurrency layered on the project settings. After the reactor stops, each spider's summary is collected,
printed by the caller and stored as a row of `runs`.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from scrapy.utils.project import get_project_settings

from archive.jobstate import begin_run, end_run
from archive.lock import writer_lock
from crawler.discovery import describe as describe_browser
from crawler.resources import CLOSE_REASON as RESOURCES_CLOSE_REASON
from crawler.resources import exhaustion_reason, reset_unattributed, site_resource_errors
from crawler.resources import unattributed as resource_unattributed
from crawler.sites import SiteConfig, write_sites
from crawler.spiders import resolve_spider
from nianbao import __version__
from nianbao.limits import ensure_descriptors
from pipelines import database
from pipelines.database import now_iso
from pipelines.extraction import check_environment, shutdown_pool
from pipelines.notify import notify_run
from pipelines.state import DatabaseHistory
from pipelines.store import record_run


@dataclass
class RunResult:
    run_id: str
    started: str
    finished: str
    summaries: list[dict[str, Any]]
    changes: dict[str, int] = field(default_factory=dict)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    # Exhaustions (descriptors, disk, memory) logged during the run that named no site, by kind.
    run_errors: dict[str, int] = field(default_factory=dict)
    # The run's own steps that failed for the same reasons (job state, the `runs` row), each with its reason.
    failures: list[str] = field(default_factory=list)

    def shortfalls(self) -> list[str]:
        """What keeps the run from being complete (empty when it is): a site not fetched or without its 年报
        column, fetch errors, anti-bot answers (blocked), reports not extracted, alerts not delivered."""
        out = []
        for s in self.summaries:
            if s.get("status") == "error":
                out.append(f"{s['site']}: error, {s['resource_error']}"
                           + (f" ({s['resource_errors']} times)" if s.get("resource_errors", 0) > 1 else ""))
                if s.get("not_archived"):
                    out.append(f"{s['site']}: {s['not_archived']} response(s) not archived")
                continue  # its other shortfalls (no column, nothing fetched) follow from the error
            if not s.get("pages"):
                out.append(f"{s['site']}: nothing could be fetched")
            elif not (s.get("column_found") or s.get("reports")):
                out.append(f"{s['site']}: no 年报 column found")
            if s.get("errors"):
                out.append(f"{s['site']}: {s['errors']} fetch error(s)")
            if s.get("blocked"):
                out.append(f"{s['site']}: blocked {s['blocked']} ({blocked_by(s)})")
            bad = {k: v for k, v in (s.get("extraction") or {}).items() if k in INCOMPLETE_EXTRACTION and v}
            if bad:
                out.append(f"{s['site']}: extraction " + ", ".join(f"{k} {v}" for k, v in bad.items()))
        out += self.failures
        if self.run_errors:
            out.append("resource exhaustion outside any site: "
                       + ", ".join(f"{kind} {n}" for kind, n in self.run_errors.items()))
        failed_alerts = [a for a in self.alerts if a.get("status") != "sent"]
        if failed_alerts:
            out.append(f"{len(failed_alerts)} alert(s) not delivered")
        return out


def mark_resource_errors(summary: dict[str, Any], stats: dict[str, Any]) -> None:
    """Set the site's `status` (`error` when it ran out of descriptors, disk or memory, or a response could not be
    archived; `ok` otherwise), with `resource_error` (the first reason), `resource_errors` (how many) and
    `not_archived` (+ `not_archived_urls`); exhaustions and unarchived responses are counted in `errors`."""
    count, first, kinds = site_resource_errors(stats)
    fetch_errors = [e for e in summary.get("error_list") or [] if exhaustion_reason(str(e.get("error") or ""))]
    if not count and fetch_errors:  # a fetch error that is an exhaustion (counted by the spider, not logged)
        count, first = len(fetch_errors), exhaustion_reason(str(fetch_errors[0].get("error")))
    not_archived = int(stats.get("archive/not_archived", 0) or 0)
    summary["resource_errors"], summary["resource_kinds"] = count, kinds
    summary["not_archived"] = not_archived
    summary["not_archived_urls"] = list(stats.get("archive/not_archived_urls") or [])
    # An exhaustion that lost a response is one error, not two (crawler/resources.py counts the overlap).
    overlap = int(stats.get("nianbao/resources_unarchived", 0) or 0)
    summary["errors"] = (int(summary.get("errors") or 0) + max(0, count - len(fetch_errors) - overlap)
                         + not_archived)
    if count or not_archived:
        summary["status"] = "error"
        summary["resource_error"] = first or f"{not_archived} response(s) not archived"
    else:
        summary["status"] = "ok"


def run_sites_file(data_dir: str | Path, run_id: str) -> Path:
    """Where a run keeps the sites it was started with (beside its job state)."""
    from archive.jobstate import jobs_dir

    return jobs_dir(data_dir) / run_id / "sites.yaml"


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def project_settings() -> Settings:
    import os

    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    return get_project_settings()


def delay_settings(delay: float, jitter: float) -> dict[str, float]:
    """Scrapy's jitter is symmetric; nianbao's delay is a floor. Centre Scrapy's range on delay*(1+jitter/2) so the
    pause between two requests to a host lies in [delay, delay*(1+jitter)]."""
    if delay <= 0:
        return {"DOWNLOAD_DELAY": 0.0, "DOWNLOAD_DELAY_JITTER": 0.0, "AUTOTHROTTLE_START_DELAY": 0.0}
    centre = delay * (1 + jitter / 2)
    return {"DOWNLOAD_DELAY": centre, "DOWNLOAD_DELAY_JITTER": (jitter / 2) / (1 + jitter / 2),
            "AUTOTHROTTLE_START_DELAY": centre}


def site_settings(base: Settings, site: SiteConfig, data_dir: Path, run_id: str,
                  overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    overrides = dict(overrides or {})
    delay = overrides.pop("NIANBAO_DOWNLOAD_DELAY", None)
    if delay is None:
        delay = site.download_delay if site.download_delay is not None else base.getfloat("NIANBAO_DOWNLOAD_DELAY")
    jitter = float(overrides.pop("NIANBAO_DELAY_JITTER", base.getfloat("NIANBAO_DELAY_JITTER")))
    contact = overrides.pop("NIANBAO_CONTACT", None) or base.get("NIANBAO_CONTACT")
    values: dict[str, Any] = {
        "NIANBAO_DATA_DIR": str(data_dir),
        "NIANBAO_CRAWL_ID": run_id,
        "NIANBAO_SITE": site.key,
        "USER_AGENT": f"nianbao/{__version__} (+https://github.com/nianbao/nianbao; {contact})",
        "NIANBAO_DOWNLOAD_DELAY": delay,
        **delay_settings(float(delay), jitter),
    }
    if site.concurrency:
        values["CONCURRENT_REQUESTS_PER_DOMAIN"] = site.concurrency
    values.update(overrides)
    return values


class _LogFile(logging.FileHandler):
    """The run's log file: when it cannot be written (a full disk), one line says so on stderr, not a traceback
    per log line."""

    failed = False

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging API
        if not self.failed:
            self.failed = True
            sys.stderr.write(f"nianbao: cannot write the log file {self.baseFilename} ({sys.exc_info()[1]}); "
                             "its lines are lost from now on\n")


def setup_logging(data_dir: Path, run_id: str, quiet_console: bool) -> Path:
    log_dir = data_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_file = log_dir / f"crawl-{run_id}.log"
    fmt = logging.Formatter("%(asctime)s [%(name)s] %(levelname)s: %(message)s")
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    file_handler = _LogFile(log_file, encoding="utf-8")
    file_handler.setFormatter(fmt)
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(fmt)
    console.setLevel(logging.WARNING if quiet_console else logging.INFO)
    # Scrapy's end-of-crawl stats dump is for the log file; the console gets nianbao's own summary.
    console.addFilter(lambda record: record.name != "scrapy.statscollectors")
    root.addHandler(file_handler)
    root.addHandler(console)
    return log_file


def run_crawl(sites: list[SiteConfig], data_dir: str | Path, overrides: dict[str, Any] | None = None,
              notify: list[str] | None = None, link_base: str | None = None, resume: bool = False,
              wait: bool = False) -> RunResult:
    """Crawl `sites` once, storing WARCs and the database under `data_dir`, then send the run's digest to the
    `notify` channels (Apprise URLs). With `resume`, continue the data folder's unfinished run (same run id,
    completed pages answered from the archive). Blocks until done. Holds the data folder's writer lock
    (`archive.lock`): raises `LockHeld` when another writer has it, unless `wait`."""
    # Soft descriptor limit up to the hard one, for the sites that crawl at once (the pool), not all of them.
    base = project_settings()
    at_once = sites_in_flight(base, overrides, len(sites))
    limit = ensure_descriptors(at_once).message(at_once)
    if limit:
        print(limit, flush=True)
    check_environment()  # a broken installation fails here, once, before anything is crawled
    data_dir = Path(data_dir).resolve()
    # One writer per data folder, taken before anything in it is touched (a refused crawl changes nothing).
    with writer_lock(data_dir, wait=wait):
        return _run_crawl(sites, data_dir, base, at_once, overrides, notify, link_base, resume)


def _run_crawl(sites: list[SiteConfig], data_dir: Path, base: Settings, at_once: int,
               overrides: dict[str, Any] | None, notify: list[str] | None, link_base: str | None,
               resume: bool) -> RunResult:
    job = begin_run(data_dir, new_run_id(), [s.key for s in sites], resume=resume)
    run_id = job.run_id
    if not resume:  # the run's own sites, whatever registry file they came from: --resume reads them back
        write_sites(sites, run_sites_file(data_dir, run_id))
    started = now_iso()
    reset_unattributed()
    setup_logging(data_dir, run_id, quiet_console=sys.stderr.isatty())
    process = CrawlerProcess(base, install_root_handler=False)
    done: dict[int, dict[str, Any]] = {}
    waiting = iter(enumerate(sites))

    def start_next() -> None:
        """Start the next site's crawler: crawlers are made when their site starts and dropped when it ends,
        so memory and start-up grow with the sites in flight, not with the sites of the run."""
        for index, site in waiting:
            try:
                crawler = process.create_crawler(resolve_spider(site.spider))
                crawler.settings.setdict({**site_settings(base, site, data_dir, run_id, overrides),
                                          **job.settings(site.key)}, priority="cmdline")
                crawl = process.crawl(crawler, site=site, history=DatabaseHistory(data_dir))
            except Exception as exc:  # noqa: BLE001 - one site that cannot start is that site's error
                logging.getLogger(__name__).exception("site %s could not start", site.key)
                done[index] = site_summary(site, None, f"the spider did not start: {exc}")
                continue
            crawl.addBoth(site_ended, index, site, crawler)
            return

    def site_ended(result: Any, index: int, site: SiteConfig, crawler: Any) -> Any:
        done[index] = site_summary(site, crawler)
        start_next()
        return result

    for _ in range(at_once):
        start_next()
    try:
        if done.keys() != set(range(len(sites))):
            process.start()
    finally:
        shutdown_pool()
    summaries = [done.get(i) or site_summary(site, None) for i, site in enumerate(sites)]
    if resource_unattributed():
        logging.getLogger(__name__).error("resource exhaustion outside any site: %s", resource_unattributed())
    failures: list[str] = []  # the run's own steps that ran out of disk, descriptors or memory
    try:
        end_run(job, [s.get("finish_reason") for s in summaries],
                restart=[s["site"] for s in summaries if s.get("finish_reason") == RESOURCES_CLOSE_REASON])
    except Exception as exc:
        reason = exhaustion_reason(exc)
        if reason is None:
            raise
        logging.getLogger(__name__).exception("job state of run %s not saved", run_id)
        failures.append(f"job state not saved, {reason}")
    finished = now_iso()
    outcomes: dict[str, int] = {}
    alerts: list[dict[str, Any]] = []
    db = None
    try:
        db = database.connect(data_dir)
        record_run(db, run_id, started, finished, summaries, run_errors=resource_unattributed())
        outcomes = dict(db.execute(
            "SELECT kind, count(*) FROM changes WHERE run_id = ? GROUP BY kind", [run_id]).fetchall())
        alerts = notify_run(db, {"id": run_id, "started": started, "finished": finished}, list(notify or []),
                            link_base) if notify else []
        with db.conn:
            db.execute("UPDATE runs SET changes = ?, alerts = ? WHERE id = ?",
                       [sum(outcomes.values()), len(alerts), run_id])
    except Exception as exc:  # a full disk at the end: the summary is still printed, naming it
        reason = exhaustion_reason(exc)
        if reason is None:
            raise
        logging.getLogger(__name__).exception("run %s not recorded in the database", run_id)
        failures.append(f"run not recorded in the database (runs), {reason}")
    finally:
        if db is not None:
            db.close()
    return RunResult(run_id, started, finished, summaries, outcomes, alerts, resource_unattributed(), failures)


def sites_in_flight(base: Settings, overrides: dict[str, Any] | None, sites: int) -> int:
    """How many sites crawl at once (NIANBAO_SITES_IN_FLIGHT, `nianbao crawl --sites-in-flight`; 0 = from the
    cores: a polite crawl mostly waits, and one core keeps about 48 sites busy at a 2-second pace)."""
    import os

    wanted = int((overrides or {}).get("NIANBAO_SITES_IN_FLIGHT") or base.getint("NIANBAO_SITES_IN_FLIGHT") or 0)
    if wanted <= 0:
        wanted = 48 * (os.cpu_count() or 1)
    return max(1, min(wanted, sites))


def site_summary(site: SiteConfig, crawler: Any, error: str = "the spider did not start") -> dict[str, Any]:
    """A finished site's summary: its spider's, with the pages, finish reason, extraction counts and resource
    errors from its crawler's stats; an error summary for a site whose spider never ran."""
    spider = getattr(crawler, "spider", None)
    summary = spider.summary() if spider is not None else {
        "site": site.key, "name": site.name, "column_found": False, "column_url": None, "list_pages": 0,
        "reports": 0, "reports_by_year": {}, "attachments": 0, "other_pages": 0, "errors": 1,
        "error_list": [{"url": "", "error": error}],
    }
    stats = crawler.stats.get_stats() if crawler is not None and crawler.stats else {}
    summary["pages"] = int(stats.get("response_received_count", 0))
    summary["finish_reason"] = stats.get("finish_reason")
    summary["extraction"] = {k.rsplit("/", 1)[1]: int(v) for k, v in sorted(stats.items())
                             if k.startswith("nianbao/extraction/")}
    mark_resource_errors(summary, stats)
    return summary


INCOMPLETE_EXTRACTION = ("partial", "no_text", "error", "truncated")  # no_tables: stubs, pre-2019


def blocked_by(summary: dict[str, Any]) -> str:
    """`ruishu-412 2, js-required 1`: the anti-bot signatures a site answered, most frequent first."""
    return ", ".join(f"{sig} {n}" for sig, n in (summary.get("blocked_by") or {}).items())


def _extraction_note(extraction: dict[str, int]) -> str:
    bad = sum(extraction.get(k, 0) for k in INCOMPLETE_EXTRACTION)
    return f"  ({bad} incomplete: nianbao changes --all lists them)" if bad else ""


def format_summary(result: RunResult) -> str:
    lines = [f"Run {result.run_id}: {len(result.summaries)} site(s)"]
    for s in result.summaries:
        years = ", ".join(f"{y}: {n}" for y, n in sorted(s.get("reports_by_year", {}).items())) or "none"
        lines.append(f"  {s['site']} {s['name']}")
        if s.get("status") == "error":
            lines.append(f"    result: error: {s['resource_error']}"
                         + (f" ({s['resource_errors']} times)" if s.get("resource_errors", 0) > 1 else "")
                         + (f"; stopped ({s['finish_reason']}): nianbao crawl --resume continues it"
                            if s.get("finish_reason") not in (None, "finished") else ""))
            for url in s.get("not_archived_urls", [])[:5]:
                lines.append(f"      not archived: {url}")
        column = s["column_url"] or ("not reached (the site stopped on the error)" if s.get("status") == "error"
                                     else "NOT FOUND")
        lines.append(f"    年报 column: {column}")
        lines.append(f"    list pages {s['list_pages']}, pages fetched {s.get('pages', 0)}, "
                     f"reports {s['reports']} (by data year: {years}), attachments {s['attachments']}, "
                     f"other pages {s.get('other_pages', 0)}, errors {s['errors']}")
        extraction = s.get("extraction") or {}
        if extraction:
            lines.append("    extracted: " + ", ".join(f"{k} {v}" for k, v in extraction.items())
                         + _extraction_note(extraction))
        browser = describe_browser(s.get("browser"))
        if browser:
            lines.append("    " + browser)
        for err in s.get("error_list", [])[:5]:
            lines.append(f"      error: {err.get('url')} {err.get('error')}")
        if s.get("blocked"):
            not_sent = s.get("blocked_not_sent") or 0
            lines.append(f"    blocked: {s['blocked']} ({blocked_by(s)}): anti-bot answers, not pages; known reports "
                         "keep their status" + (f"; {not_sent} request(s) not sent" if not_sent else ""))
            for b in s.get("blocked_list", [])[:5]:
                lines.append(f"      blocked: {b.get('url')} HTTP {b.get('status')} {b.get('signature')}")
    kinds = ("new", "changed", "restored", "removed")
    lines.append("Changes: " + ", ".join(f"{result.changes.get(k, 0)} {k}" for k in kinds)
                 + ("  (nianbao changes --since …  lists them)" if any(result.changes.values()) else ""))
    for alert in result.alerts:
        lines.append(f"Alert to {alert.get('channel')}: {alert.get('status')}"
                     + (f" ({alert.get('error')})" if alert.get("error") else ""))
    shortfalls = result.shortfalls()
    lines.append("Incomplete: " + "; ".join(shortfalls) if shortfalls else "Complete.")
    return "\n".join(lines)
