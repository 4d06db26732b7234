"""Browser-assisted API discovery, for 年报 columns nothing else can walk.

When a column page lists no report entries (or fewer than the count it declares: 共20条, `recordCount: '20'`), no
walker found further list pages, and the page loads scripts, the column is rendered once in headless Chromium
(crawler/render.py, a child process: the reactor never waits on it, and it is killed when over time). The
XHR/fetch requests the page made are **replayed through the normal crawl** (Scrapy requests: archived, polite,
scoped; what the browser fetched is not evidence), their JSON is read by crawler/cms/jsonapi.py, and the API's
further pages are requested from the page or record count it answers. Report links of the rendered page (a list
written into the DOM by other means) are followed too.

A replayed request whose answer lists reports is **learned**: the site's History (pipelines.state.DatabaseHistory)
records its column, method, URL, body and headers, and later runs request it directly when they parse that column,
without a browser.

Bounds and manners: at most NIANBAO_BROWSER_RENDERS renders per site and run (default 3), NIANBAO_BROWSER_TIMEOUT
seconds each (default 60); one render at a time per site, with the site's crawler paused and its downloads
finished first, so the browser is the portal's only client meanwhile; its requests are scoped, checked against
robots.txt, one at a time and at least the site's delay apart (crawler/render.py). Without Chromium (or without
the `playwright` package) the step is skipped and the run summary says so in one line.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from scrapy.http import Request, Response, TextResponse

from crawler.cms.base import PageRequest
from crawler.cms.jsonapi import DISCOVERED, json_entries, page_count, parse_json
from crawler.history import History
from crawler.links import (
    Link,
    is_article_url,
    is_attachment,
    is_column_link,
    is_sub_column,
    is_trap,
    is_year_column,
)
from domain.recognise import recognise_title

log = logging.getLogger(__name__)

DECLARED = re.compile(r"共\s*有?\s*(\d{1,6})\s*条|\b(?:recordCount|totalRecord|totalCount|totalRecords)\s*[:=]\s*"
                      r"['\"]?(\d{1,6})", re.I)
LOADS_SCRIPTS = re.compile(r"<script\b[^>]*\bsrc\s*=|XMLHttpRequest|\bfetch\s*\(|\$\.(?:ajax|get|post|getJSON)\b|"
                           r"\baxios\b|\.load\s*\(", re.I)
PAGE_PARAM = re.compile(r"^(?:page|pageno|page_no|pagenum|page_num|pageindex|page_index|curpage|cur_page|"
                        r"currentpage|current_page|current|p|pn|pagenumber|page_number)$", re.I)
SIZE_PARAM = re.compile(r"^(?:size|pagesize|page_size|rows|limit|prepage|perpage|per_page|pagecount|ps|num)$", re.I)
KEPT_HEADERS = {"content-type": "Content-Type", "x-requested-with": "X-Requested-With", "accept": "Accept"}
MAX_ENDPOINTS = 5  # replayed per render
MAX_API_PAGES = 500
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "/usr/bin/chromium")
NOT_FOUND = "Chromium not found (install Debian's chromium, or set NIANBAO_CHROMIUM to its path)"


def find_chromium(configured: str | None = None) -> str | None:
    """The browser to drive: NIANBAO_CHROMIUM when set, else Debian's chromium (or another Chromium) on PATH."""
    if configured:
        return configured if os.path.isfile(configured) and os.access(configured, os.X_OK) else None
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def unavailable(chromium: str | None) -> str | None:
    """Why no render can happen here, or None."""
    if chromium is None:
        return NOT_FOUND
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install 'nianbao[browser]')"
    return None


def declared_count(text: str) -> int | None:
    m = DECLARED.search(text or "")
    return int(m.group(1) or m.group(2)) if m else None


def endpoint_key(endpoint: dict) -> tuple[str, str, str]:
    return endpoint["method"], endpoint["url"], endpoint.get("body") or ""


def with_page(endpoint: dict, key: str, where: str, page: int) -> dict:
    """The same request for another page number."""
    out = dict(endpoint)
    if where == "query":
        parts = urlsplit(endpoint["url"])
        query = [(k, str(page) if k == key else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
        out["url"] = urlunsplit(parts._replace(query=urlencode(query)))
    elif where == "form":
        form = [(k, str(page) if k == key else v) for k, v in parse_qsl(endpoint["body"], keep_blank_values=True)]
        out["body"] = urlencode(form)
    else:
        data = json.loads(endpoint["body"])
        data[key] = page if isinstance(data[key], int) else str(page)
        out["body"] = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return out


def page_param(endpoint: dict) -> tuple[str, str, int, int | None] | None:
    """(name, where, value, page size) of the page-number parameter of a request: in its query, its form body or
    its JSON body. None when it has none."""
    candidates: list[tuple[str, list[tuple[str, Any]]]] = [
        ("query", parse_qsl(urlsplit(endpoint["url"]).query, keep_blank_values=True))]
    body = endpoint.get("body") or ""
    content_type = (endpoint.get("headers") or {}).get("Content-Type", "")
    if body:
        data = parse_json(body) if body.lstrip().startswith("{") else None
        if isinstance(data, dict):
            candidates.append(("json", list(data.items())))
        elif "json" not in content_type:
            candidates.append(("form", parse_qsl(body, keep_blank_values=True)))
    for where, pairs in candidates:
        size = next((int(v) for k, v in pairs if SIZE_PARAM.match(k) and str(v).isdigit()), None)
        for key, value in pairs:
            if PAGE_PARAM.match(key) and str(value).isdigit():
                return key, where, int(value), size
    return None


def describe(browser: dict[str, Any] | None) -> str | None:
    """The run summary's line about the browser step (None when nothing needed it)."""
    if not browser:
        return None
    parts = []
    if browser.get("skipped"):
        return (f"browser: skipped, {browser.get('wanted', 0)} column(s) needed a render: {browser['skipped']}")
    if browser.get("renders"):
        parts.append(f"{browser['renders']} render(s) ({browser.get('seconds', 0):.1f} s)")
    if browser.get("replayed"):
        parts.append(f"{browser['replayed']} learned endpoint(s) replayed without a browser")
    if browser.get("api_requests"):
        parts.append(f"{browser['api_requests']} API request(s) made by the crawl")
    if browser.get("learned"):
        parts.append(f"{browser['learned']} endpoint(s) learned")
    if browser.get("renders") and not (browser.get("api_requests") or browser.get("links")):
        parts.append("nothing found")
    if browser.get("over_budget"):
        parts.append(f"{browser['over_budget']} column(s) not rendered (NIANBAO_BROWSER_RENDERS "
                     f"{browser.get('budget')})")
    for error in browser.get("failures", [])[:2]:
        parts.append(f"failed: {error}")
    return "browser: " + ", ".join(parts) if parts else None


class BrowserDiscovery:
    """One per spider: decides when a column needs a render, runs it, replays and learns what it found."""

    def __init__(self, spider: Any, history: History) -> None:
        self.spider = spider
        self.history = history
        self.crawler: Any = None
        self.budget = 0
        self.timeout = 60.0
        self.delay = 0.0
        self.chromium_setting = ""
        self.user_agent = ""
        self.reason: str | None = None
        self.checked = False
        self.queue: list[dict[str, Any]] = []
        self.running = False
        self.stopped = False
        self.rendered: set[str] = set()
        self.processes: set[subprocess.Popen] = set()
        self.learned_cache: list[dict] | None = None
        self.learned_now: set[tuple[str, str, str]] = set()
        self.seen_api_entries: set[str] = set()
        self.replays: dict[str, dict[str, Any]] = {}  # column URL -> its learned endpoints' answers this run
        self.stats: dict[str, Any] = {"wanted": 0, "renders": 0, "seconds": 0.0, "api_requests": 0, "links": 0,
                                      "learned": 0, "replayed": 0, "over_budget": 0, "failures": []}

    def configure(self, crawler: Any) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.budget = settings.getint("NIANBAO_BROWSER_RENDERS", 3)
        self.timeout = settings.getfloat("NIANBAO_BROWSER_TIMEOUT", 60.0)
        self.delay = settings.getfloat("NIANBAO_DOWNLOAD_DELAY", settings.getfloat("DOWNLOAD_DELAY", 0.0))
        self.chromium_setting = settings.get("NIANBAO_CHROMIUM") or os.environ.get("NIANBAO_CHROMIUM", "")
        self.user_agent = settings.get("USER_AGENT") or ""
        self.stats["budget"] = self.budget

    # ------------------------------------------------------------------ called by the spider
    def column_parsed(self, response: TextResponse, entries: list[Link]) -> Iterator[Request]:
        """After the spider walked a column or list page: learn from and page an API answer; replay a column's
        learned endpoints; or queue a render of a column nothing else could walk."""
        if DISCOVERED in response.meta:
            yield from self._api_answer(response, entries)
            return
        if response.url not in self.spider.columns or response.meta.get("role") == "list":
            return
        depth = response.meta.get("nav_depth", 0) + 1
        learned = [e for e in self._learned() if e["column_url"] == response.url]
        if learned:
            # Rendered again only when every learned endpoint answers without a report (the site changed).
            self.replays[response.url] = {"pending": 0, "reports": 0, "job": self._job(response, depth)}
            for endpoint in learned:
                request = self._request(endpoint, depth, learn=True, replay=True)
                if request is not None:
                    self.stats["replayed"] += 1
                    self.replays[response.url]["pending"] += 1
                    yield request
            return
        why = self._needs_render(response, entries)
        if why is not None:
            self._want(self._job(response, depth), why)

    def _job(self, response: TextResponse, depth: int) -> dict[str, Any]:
        return {"url": response.url, "depth": depth, "body": base64.b64encode(response.body).decode("ascii"),
                "content_type": f"text/html; charset={response.encoding}"}

    def _want(self, job: dict[str, Any], why: str) -> None:
        """Queue a render of a column, within the run's budget, when a browser is there."""
        if job["url"] in self.rendered:
            return
        self.rendered.add(job["url"])
        self.stats["wanted"] += 1
        if self.crawler is None or self.budget <= 0:
            return
        if not self.checked:
            self.checked = True
            self.reason = unavailable(find_chromium(self.chromium_setting))
        if self.reason:
            self.stats["skipped"] = self.reason
            log.warning("%s: column %s needs a browser (%s) but %s", self.spider.site_key, job["url"], why,
                        self.reason)
            return
        if self.stats["renders"] + len(self.queue) + int(self.running) >= self.budget:
            self.stats["over_budget"] += 1
            log.info("column %s needs a browser (%s): over this run's budget of %d render(s)", job["url"], why,
                     self.budget)
            return
        log.info("rendering column %s in Chromium: %s", job["url"], why)
        self.queue.append(job)
        self._start_next()

    def busy(self) -> bool:
        return self.running or bool(self.queue)

    def close(self) -> None:
        """The spider is closing: stop a render still running (its process group)."""
        self.stopped = True
        self.queue.clear()
        for proc in list(self.processes):
            _kill(proc)

    def summary(self) -> dict[str, Any]:
        out = dict(self.stats, seconds=round(self.stats["seconds"], 3))
        return out if (out["wanted"] or out["replayed"] or out["api_requests"]) else {}

    # ------------------------------------------------------------------ when to render
    def _needs_render(self, response: TextResponse, entries: list[Link]) -> str | None:
        """Why the column needs a render (None when it does not): it loads scripts, no walker found further list
        pages, and it lists no entries and no sub-columns, or fewer entries than it declares."""
        text = getattr(response, "text", "")
        if not LOADS_SCRIPTS.search(text):
            return None
        listed = [link for link in entries if recognise_title(link.text)
                  or (is_article_url(link.url) and not link.in_chrome and self.spider.same_site(link.url))]
        sub_columns = any(is_year_column(link) or (is_column_link(link) and not link.in_chrome)
                          or is_sub_column(link, response.url) for link in entries)
        declared = declared_count(text)
        if listed or sub_columns:
            if not declared or len(listed) >= declared:
                return None
            why = f"{len(listed)} entries of the {declared} the page declares"
        else:
            why = "no report entries in the page"
        if self._further_pages(response):
            return None  # a walker pages this column
        return why

    def _further_pages(self, response: TextResponse) -> list[PageRequest]:
        return [page for walker in self.spider.walkers for page in walker.pages(response)
                if page.url != response.url and page.url not in self.spider.list_pages]

    # ------------------------------------------------------------------ the render (one at a time)
    def _start_next(self) -> None:
        if self.running or not self.queue:
            return
        from twisted.internet import reactor, threads
        from twisted.internet.task import deferLater

        job = self.queue.pop(0)
        self.running = True
        engine = self.crawler.engine
        engine.pause()  # the browser is the portal's only client while it renders
        started = time.monotonic()

        def downloads_done(_: Any = None):
            if engine.downloader.active and time.monotonic() - started < self.timeout:
                return deferLater(reactor, 0.05, downloads_done)
            return None

        d = deferLater(reactor, 0, downloads_done)
        d.addCallback(lambda _: threads.deferToThread(self._run_child, job))
        d.addErrback(lambda failure: {"ok": False, "error": failure.getErrorMessage()[:300]})
        d.addCallback(self._rendered, job)
        d.addErrback(lambda failure: log.error("browser discovery failed: %s", failure.getTraceback()) or [])
        d.addCallback(lambda requests: deferLater(reactor, self.delay, self._resume, requests))

    def _resume(self, requests: list[Request]) -> None:
        engine = self.crawler.engine
        engine.unpause()
        self.running = False
        if self.stopped:
            return  # the spider closed meanwhile (shutdown): nothing more to schedule
        for request in requests:
            engine.crawl(request)
        self._start_next()

    def _run_child(self, job: dict[str, Any]) -> dict[str, Any]:
        """In a worker thread: the render process, its questions answered, bounded by the timeout."""
        spec = {"url": job["url"], "body": job["body"], "content_type": job["content_type"],
                "chromium": find_chromium(self.chromium_setting), "user_agent": self.user_agent,
                "delay": self.delay, "timeout": self.timeout}
        with tempfile.TemporaryFile() as stderr:
            proc = subprocess.Popen([sys.executable, "-m", "crawler.render"], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=stderr, start_new_session=True, text=True,
                                    encoding="utf-8")
            self.processes.add(proc)
            watchdog = threading.Timer(self.timeout + 15, _kill, [proc])
            watchdog.start()
            result: dict[str, Any] | None = None
            try:
                proc.stdin.write(json.dumps(spec) + "\n")
                proc.stdin.flush()
                for line in proc.stdout:
                    message = json.loads(line) if line.startswith("{") else {}
                    if "ask" in message:
                        allowed = self._allowed(str(message["ask"]))
                        proc.stdin.write(json.dumps({"allowed": allowed}) + "\n")
                        proc.stdin.flush()
                    elif "result" in message:
                        result = message["result"]
                        break
                proc.wait(timeout=15)
            except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
                log.warning("render of %s: %s", job["url"], exc)
            finally:
                watchdog.cancel()
                _kill(proc)
                self.processes.discard(proc)
            if result is None:
                stderr.seek(0)
                tail = stderr.read()[-600:].decode("utf-8", "replace").strip().splitlines()
                result = {"ok": False, "error": f"no result within {self.timeout:.0f} s"
                          + (f" ({tail[-1][:200]})" if tail else "")}
        return result

    def _allowed(self, url: str) -> bool:
        """May the browser request `url`: in the site's scope and allowed by its robots.txt (worker thread)."""
        if urlsplit(url).scheme not in ("http", "https") or not self.spider.same_site(url):
            return False
        settings = self.crawler.settings
        if not settings.getbool("ROBOTSTXT_OBEY"):
            return True
        from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware

        netloc = urlsplit(url).netloc
        for mw in getattr(self.crawler.engine.downloader.middleware, "middlewares", ()):
            if isinstance(mw, RobotsTxtMiddleware):
                parsers = getattr(mw, "_parsers", {})
                if netloc not in parsers:
                    return False  # robots.txt of that host not read yet: not asked for by the browser
                parser = parsers[netloc]
                if parser is None:
                    return True  # robots.txt could not be fetched: the crawl treats the host as unrestricted
                if not hasattr(parser, "allowed"):
                    return False  # still downloading
                agent = settings.get("ROBOTSTXT_USER_AGENT") or self.user_agent
                return bool(parser.allowed(url, agent))
        return True

    def _rendered(self, result: dict[str, Any], job: dict[str, Any]) -> list[Request]:
        """Back in the reactor: the requests to make from what the render saw."""
        self.stats["renders"] += 1
        self.stats["seconds"] += float(result.get("seconds") or 0)
        self.crawler.stats.inc_value("nianbao/browser/renders")
        if not result.get("ok"):
            self.stats["failures"].append(str(result.get("error"))[:200])
            log.warning("render of %s failed: %s", job["url"], result.get("error"))
            return []
        if result.get("error"):
            log.info("render of %s ended early: %s", job["url"], result["error"])
        out: list[Request] = []
        endpoints: dict[tuple[str, str, str], dict] = {}
        for record in result.get("requests", []):
            endpoint = self._endpoint(record, job["url"])
            if endpoint is not None and endpoint_key(endpoint) not in endpoints:
                endpoints[endpoint_key(endpoint)] = endpoint
        for endpoint in list(endpoints.values())[:MAX_ENDPOINTS]:
            request = self._request(endpoint, job["depth"], learn=True)
            if request is not None:
                out.append(request)
        links = 0
        for href, text in result.get("links", []):
            title = recognise_title(text or "")
            if title is None or not self.spider.same_site(href) or is_trap(href):
                continue
            if is_attachment(href):
                requests = self.spider.follow(href, "attachment", report_url=href, label=text,
                                              nianbao_listed_title=text)
            else:
                requests = self.spider.follow(href, "article", job["depth"], link_text=text)
            links += len(requests)
            out += requests
        self.stats["links"] += links
        log.info("render of %s (%.1f s, %s): %d XHR/fetch request(s), %d replayed, %d report link(s) followed",
                 job["url"], float(result.get("seconds") or 0), result.get("browser"),
                 len(result.get("requests", [])), len(endpoints), links)
        return out

    def _endpoint(self, record: dict[str, Any], column_url: str) -> dict | None:
        """An API worth replaying: an in-scope XHR/fetch whose JSON answer (as the browser saw it) lists reports."""
        method = str(record.get("method", "GET")).upper()
        if record.get("type") not in ("xhr", "fetch") or method not in ("GET", "POST"):
            return None
        if not self.spider.same_site(record.get("url", "")):
            return None
        data = parse_json(record.get("response", ""))
        if data is None or not any(recognise_title(link.text) for link in json_entries(data, record["url"])):
            return None
        headers = {KEPT_HEADERS[k.lower()]: v for k, v in (record.get("headers") or {}).items()
                   if k.lower() in KEPT_HEADERS}
        return {"column_url": column_url, "method": method, "url": record["url"],
                "body": record.get("body") or "" if method == "POST" else "", "headers": headers}

    # ------------------------------------------------------------------ API requests and answers
    def _request(self, endpoint: dict, depth: int, **api: Any) -> Request | None:
        """A Scrapy request for an endpoint, within the spider's bounds (never twice, the page budget)."""
        spider = self.spider
        key = (endpoint["method"], endpoint["url"], "", (("__body__", endpoint.get("body") or ""),))
        if key in spider.followed or len(spider.followed) >= spider.max_pages:
            return None
        spider.followed.add(key)
        headers = {**(endpoint.get("headers") or {}), "Referer": endpoint["column_url"]}
        body = (endpoint.get("body") or "").encode("utf-8") if endpoint["method"] == "POST" else None
        meta = {"role": "list", "nav_depth": depth, DISCOVERED: {**endpoint, **api}}
        self.stats["api_requests"] += 1
        if self.crawler is not None:
            self.crawler.stats.inc_value("nianbao/browser/api_requests")
        return Request(endpoint["url"], method=endpoint["method"], body=body, headers=headers, meta=meta,
                       callback=spider.parse, errback=spider.on_error)

    def _api_answer(self, response: Response, entries: list[Link]) -> Iterator[Request]:
        api = dict(response.meta[DISCOVERED])
        endpoint = {k: api[k] for k in ("column_url", "method", "url", "body", "headers") if k in api}
        reports = [link for link in entries if recognise_title(link.text)]
        new = [link for link in entries if link.url not in self.seen_api_entries]
        self.seen_api_entries.update(link.url for link in entries)
        if api.get("learn") and reports and endpoint_key(endpoint) not in self.learned_now:
            self.learned_now.add(endpoint_key(endpoint))
            known = any(endpoint_key(e) == endpoint_key(endpoint) and e["column_url"] == endpoint["column_url"]
                        for e in self._learned())
            self.history.learn_endpoint(self.spider.site_key, {**endpoint, "headers": json.dumps(
                endpoint.get("headers") or {}, ensure_ascii=False, sort_keys=True), "entries": len(reports)})
            if not known:
                self.stats["learned"] += 1
                log.info("learned the list API of %s: %s %s %s", endpoint["column_url"], endpoint["method"],
                         endpoint["url"], endpoint.get("body") or "")
        replay = self.replays.get(endpoint["column_url"]) if api.get("replay") else None
        if replay is not None and not reports:
            self.history.learn_endpoint(self.spider.site_key, {**endpoint, "headers": json.dumps(
                endpoint.get("headers") or {}, ensure_ascii=False, sort_keys=True), "entries": 0})
            log.info("the learned list API of %s lists no report any more: %s %s %s", endpoint["column_url"],
                     endpoint["method"], endpoint["url"], endpoint.get("body") or "")
        if replay is not None:
            replay["pending"] -= 1
            replay["reports"] += len(reports)
            if replay["pending"] == 0 and replay["reports"] == 0:
                self._want(replay["job"], "its learned endpoint lists no report any more")
        if not new or api.get("generated"):
            return
        param = page_param(endpoint)
        if param is None:
            return
        key, where, value, size = param
        depth = response.meta.get("nav_depth", 0)
        count = page_count(parse_json(getattr(response, "text", "")), size or len(entries))
        if count is not None:
            if not api.get("learn"):
                return  # pages were generated from the first answer
            base = 0 if value == 0 else 1
            pages: Iterable[int] = [n for n in range(base, base + min(count, MAX_API_PAGES)) if n != value]
            extra = {"generated": True}
        else:
            pages = [value + 1] if value + 1 < MAX_API_PAGES else []  # no count: page on while pages bring news
            extra = {}
        for n in pages:
            request = self._request(with_page(endpoint, key, where, n), depth, **extra)
            if request is not None:
                yield request

    def _learned(self) -> list[dict]:
        if self.learned_cache is None:
            out = []
            for row in self.history.learned_endpoints(self.spider.site_key):
                try:
                    headers = json.loads(row.get("headers") or "{}")
                except ValueError:
                    headers = {}
                out.append({**row, "headers": headers if isinstance(headers, dict) else {}})
            self.learned_cache = out
        return self.learned_cache

    # ------------------------------------------------------------------ a file a rendered column listed
    def listed_file(self, response: Response) -> Iterator[Any]:
        """The ReportPage of a report file that a rendered page listed under a report title (as follow_entry
        yields it for a file listed in a column's HTML)."""
        text = response.meta.get("nianbao_listed_title")
        if not text:
            return
        for _ in self.spider.follow_entry(Link(response.url, text), response, recognise_title(text)):
            if not isinstance(_, Request):
                yield _


def _kill(proc: subprocess.Popen) -> None:
    """End the render process and what it started (its own session: the Playwright driver, Chromium)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
