"""One probe run (`nianbao sites probe`): every selected site's home page visited once by one small spider
(crawler/spiders/probe.py) with the crawl's settings and politeness, archived as WARC, recorded in
`site_probes` (pipelines/probes.py), summarised.

The settings are the crawl's (nianbao.runner.site_settings: User-Agent with the contact, the delay per host as a
floor with its jitter, robots.txt, the scope guard's trap rules, WARC capture with revisits), with what one visit
per site needs on top: a single retry, a 30 s timeout, and up to 16 requests in flight across hosts (still one
per host). An entry whose own `download_delay` is longer than the probe's keeps it for its hosts.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from archive.lock import writer_lock
from crawler.sites import SiteConfig
from pipelines import database
from pipelines.database import now_iso
from pipelines.probes import probes_of_run

PROBE_SETTINGS = {
    "RETRY_TIMES": 1,
    "DOWNLOAD_TIMEOUT": 30,
    "CONCURRENT_REQUESTS": 16,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
    "ITEM_PIPELINES": {"pipelines.probes.StoreProbes": 300},
}


@dataclass
class ProbeResult:
    run_id: str
    started: str
    finished: str
    probes: list[dict[str, Any]] = field(default_factory=list)  # rows of site_probes, in the order probed

    def failures(self) -> list[dict[str, Any]]:
        """The probes of sites that did not answer (HTTP error, network error, refused by robots.txt)."""
        return [p for p in self.probes if not p["reachable"]]


def probe_settings(base, sites: list[SiteConfig], data_dir: Path, run_id: str,
                   overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    from nianbao.runner import delay_settings, site_settings

    probe_site = SiteConfig(name="probe", key="probe", start_urls=(), allowed_domains=())
    values = site_settings(base, probe_site, data_dir, run_id, overrides)
    values.pop("NIANBAO_SITE", None)
    values.update(PROBE_SETTINGS)
    delay = float(values["NIANBAO_DOWNLOAD_DELAY"])
    if not (overrides or {}).get("NIANBAO_DOWNLOAD_DELAY"):
        jitter = base.getfloat("NIANBAO_DELAY_JITTER")
        slots = {}
        for site in sites:
            if site.download_delay is not None and site.download_delay > delay:
                pace = delay_settings(site.download_delay, jitter)
                for url in site.start_urls[:1]:
                    slots[urlsplit(url).hostname or ""] = {"delay": pace["DOWNLOAD_DELAY"],
                                                           "jitter": pace["DOWNLOAD_DELAY_JITTER"],
                                                           "concurrency": 1}
        if slots:
            values["DOWNLOAD_SLOTS"] = slots
    return values


def run_probe(sites: list[SiteConfig], data_dir: str | Path, overrides: dict[str, Any] | None = None,
              wait: bool = False) -> ProbeResult:
    """Probe `sites` (their first start URL) once, into `data_dir`; blocks until done. Holds the data folder's
    writer lock (raises archive.lock.LockHeld when another writer has it, unless `wait`)."""
    data_dir = Path(data_dir).resolve()
    with writer_lock(data_dir, wait=wait):
        return _run_probe([s for s in sites if s.start_urls and not s.disabled], data_dir, overrides)


def _run_probe(sites: list[SiteConfig], data_dir: Path, overrides: dict[str, Any] | None) -> ProbeResult:
    from scrapy.crawler import CrawlerProcess

    from crawler.spiders.probe import ProbeSpider
    from nianbao.runner import new_run_id, project_settings, setup_logging

    run_id = "probe-" + new_run_id()
    started = now_iso()
    base = project_settings()
    setup_logging(data_dir, run_id, quiet_console=sys.stderr.isatty())
    process = CrawlerProcess(base, install_root_handler=False)
    crawler = process.create_crawler(ProbeSpider)
    crawler.settings.setdict(probe_settings(base, sites, data_dir, run_id, overrides), priority="cmdline")
    process.crawl(crawler, sites=sites)
    process.start()
    finished = now_iso()
    db = database.connect(data_dir)
    try:
        rows = {row["site"]: row for row in probes_of_run(db, run_id)}
    finally:
        db.close()
    probes = []
    for site in sites:  # a site the spider never answered for (the crawl was stopped) is not reachable
        probes.append(rows.get(site.key) or {
            **{k: None for k in ("status", "final_url", "title", "site_code", "column_url", "xxgk_url",
                                 "capture_id")},
            "site": site.key, "name": site.name, "division_code": site.division_code, "url": site.start_urls[0],
            "reachable": False, "error": "not probed (the probe was stopped)", "redirects": [], "offsite": False,
            "run_id": run_id})
    return ProbeResult(run_id, started, finished, probes)


def format_probe(result: ProbeResult, registry_codes: dict[str, str | None] | None = None) -> str:
    """One line per site, then the figures, then the sites that did not answer. `registry_codes`: the site
    codes the registry states, to flag a page that states another."""
    lines = [f"Probe {result.run_id}: {len(result.probes)} site(s)"]
    for p in result.probes:
        head = f"  {p['site']:<15} {p['name']}"
        if not p["reachable"]:
            lines.append(f"{head}  NOT REACHABLE: {p['error']}  ({p['url']})")
            continue
        moved = f" -> {p['final_url']}" if p["final_url"] and p["final_url"] != p["url"] else ""
        lines.append(f"{head}  {p['status']} {p['url']}{moved}" + ("  (another host)" if p["offsite"] else ""))
        expected = (registry_codes or {}).get(p["site"])
        code = p["site_code"] or "not found"
        if expected and p["site_code"] and p["site_code"] != expected:
            code += f" (the registry says {expected})"
        lines.append(f"      标识码 {code}; 年报 column: {p['column_url'] or 'not on the home page'}"
                     + (f"; 政务公开: {p['xxgk_url']}" if p["xxgk_url"] and not p["column_url"] else ""))
    reached = [p for p in result.probes if p["reachable"]]
    lines.append(f"Reachable {len(reached)}/{len(result.probes)}; 标识码 read on "
                 f"{sum(1 for p in reached if p['site_code'])}; 年报 column on the home page of "
                 f"{sum(1 for p in reached if p['column_url'])}; moved to another host "
                 f"{sum(1 for p in reached if p['offsite'])}.")
    failures = result.failures()
    lines.append("Not reachable: " + "; ".join(f"{p['site']} ({p['error']})" for p in failures) if failures
                 else "All reachable.")
    return "\n".join(lines)
