"""The shared crawling logic: from a portal's home page (or its 年报 column) to every report and attachment.

1. Navigation: follow links named like 政务公开 / 政府信息公开 (a small depth budget) until a link named like the
   年报 column (政府信息公开年报, zfxxgknb, ndbg, …).
2. Columns: list entries and further list pages, by the CMS family's list walker (crawler/cms/), plus year
   sub-columns.
3. Articles: the page's own title decides whether it is a report (domain/recognise.py); its attachments are fetched.

Per-portal spiders only configure this (name, start URLs, CMS family, selectors, politeness): see
crawler/spiders/portal.py and crawler/sites.py.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from typing import Any
from urllib.parse import urlsplit

import scrapy
from parsel import Selector
from scrapy import signals
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.http import FormRequest, Request, Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from archive.conditional import CAPTURE_ID_META
from crawler.blocking import Blocked
from crawler.cms import detect_cms, walkers_for
from crawler.cms.base import API_META, ListWalker, page_links
from crawler.cms.gkmlpt import GkmlptWalker
from crawler.discovery import BrowserDiscovery
from crawler.history import History, NoHistory
from crawler.items import FetchFailed, OtherPage, PageBlocked, PageGone, ReportAttachment, ReportPage
from crawler.links import (
    COLUMN_TEXT,
    COLUMN_URL,
    Link,
    attachment_kind,
    in_scope,
    is_article_url,
    is_attachment,
    is_column_link,
    is_nav_link,
    is_sub_column,
    is_trap,
    is_year_column,
    links_from_html,
)
from crawler.middlewares import truncation_reason
from domain.pagemeta import content_images, content_text, read_page_meta
from domain.recognise import choose_agency, recognise_title


class AnnualReportSpider(scrapy.Spider):
    """Crawl one portal for its 年报. Subclasses (or the sites registry) set the class attributes below."""

    name = "annual_reports"
    site_key: str = ""
    site_name: str = ""
    site_code: str | None = None
    cms: str | None = None
    nav_depth_budget = 4
    max_pages = 20000
    # Optional CSS selectors: "entries" (the list entry links of a column page, when the walkers get them wrong).
    selectors: dict[str, str] = {}
    # The site entry's `cms_options`, handed to every list walker (e.g. trs_search_url).
    cms_options: dict[str, str] = {}

    def __init__(self, *args: Any, history: History | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.history: History = history or NoHistory()
        self.walkers: list[ListWalker] = walkers_for(self.cms, self.cms_options)
        self.columns: list[str] = []
        self.list_pages: set[str] = set()
        self.reports_by_year: Counter[int] = Counter()
        self.report_urls: set[str] = set()
        self.attachment_urls: set[str] = set()
        self.other_pages = 0
        self.errors: list[dict[str, str]] = []
        self.blocked: list[dict[str, Any]] = []  # anti-bot answers (crawler/blocking.py), not fetch errors
        self.followed: set[tuple] = set()
        self.detected_cms: str | None = None
        self.rechecked = False
        # Browser-assisted API discovery for columns nothing else can walk (crawler/discovery.py).
        self.discovery = BrowserDiscovery(self, self.history)

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.nav_depth_budget = crawler.settings.getint("NIANBAO_NAV_DEPTH", spider.nav_depth_budget)
        spider.max_pages = crawler.settings.getint("NIANBAO_MAX_PAGES_PER_SITE", spider.max_pages)
        if not crawler.settings.getbool("NIANBAO_RECHECK_KNOWN", True):
            spider.history = NoHistory()
        crawler.signals.connect(spider.spider_idle, signal=signals.spider_idle)
        spider.discovery.configure(crawler)
        return spider

    # ------------------------------------------------------------------ requests
    async def start(self) -> AsyncIterator[Request]:
        for url in self.start_urls:
            fragment = urlsplit(url).fragment
            yield self.make_request(url, role="start", depth=0,
                                    **({"fragment": fragment} if fragment.isdigit() else {}))

    def make_request(self, url: str, role: str, depth: int = 0, method: str = "GET",
                     formdata: dict[str, str] | None = None, **extra: Any) -> Request:
        meta = {"role": role, "nav_depth": depth, **extra}
        if method == "POST":
            return FormRequest(url, formdata=formdata or {}, meta=meta, callback=self.parse, errback=self.on_error)
        # Request fingerprints ignore fragments: two gkmlpt categories (#2347, #2350) are one page to Scrapy.
        return Request(url, meta=meta, callback=self.parse, errback=self.on_error,
                       dont_filter=bool(extra.get("fragment")))

    def follow(self, url: str, role: str, depth: int = 0, **extra: Any) -> Iterable[Request]:
        """A request within the bounds: never a trap URL, never twice, never past the site's page budget.

        The budget counts distinct requests: every TRS list page names every other list page again, so counting
        each mention would spend the budget quadratically on a long column. A walker's list API call (API_META) is
        built from the page's configuration, not a link: the trap rules of links do not apply to it."""
        form = extra.get("formdata") or {}
        key = (extra.get("method", "GET"), url, extra.get("fragment", ""), tuple(sorted(form.items())))
        if key in self.followed or (is_trap(url) and not extra.get(API_META)) or len(self.followed) >= self.max_pages:
            return []
        self.followed.add(key)
        return [self.make_request(url, role, depth, **extra)]

    # ------------------------------------------------------------------ dispatch
    def parse(self, response: Response, **kwargs: Any):
        role = response.meta.get("role", "start")
        if role == "attachment" or not isinstance(response, TextResponse):
            yield from self.parse_attachment(response)
            return
        if self.detected_cms is None:
            self.detected_cms = detect_cms(response)
        if role in ("start", "nav"):
            yield from self.parse_nav(response)
        elif role in ("column", "list"):
            yield from self.parse_column(response)
        elif role in ("article", "recheck"):
            yield from self.parse_article(response)

    # ------------------------------------------------------------------ navigation
    def parse_nav(self, response: TextResponse):
        links = page_links(response)
        followed: set[str] = set()
        if self.looks_like_column(response, links):
            for request in self.parse_column(response):
                followed.add(getattr(request, "url", ""))
                yield request
        depth = response.meta.get("nav_depth", 0)
        for link in links:
            if link.url in followed:
                continue
            if is_column_link(link):
                yield from self.follow(link.url, "column", depth + 1, **fragment_of(link))
            elif (title := recognise_title(link.text)) is not None:
                yield from self.follow_entry(link, response, title)
            elif is_nav_link(link) and depth < self.nav_depth_budget:
                yield from self.follow(link.url, "nav", depth + 1, **fragment_of(link))

    def looks_like_column(self, response: TextResponse, links: list[Link]) -> bool:
        if response.meta.get("fragment") and GkmlptWalker().detect(response):
            return True  # a gkmlpt start URL names its category: …/gkmlpt/index#2347
        sel = Selector(text=response.text)
        column_name = sel.xpath("//meta[@name='ColumnName']/@content").get() or ""
        if COLUMN_TEXT.search(column_name.strip()) or COLUMN_URL.search(urlsplit(response.url).path):
            return True
        return sum(1 for link in links if not link.in_chrome and recognise_title(link.text)) >= 3

    # ------------------------------------------------------------------ columns
    def parse_column(self, response: TextResponse):
        if not self.columns or response.meta.get("role") == "column":
            if response.url not in self.columns:
                self.columns.append(response.url)
        form = response.meta.get("nianbao_form") or {}
        # A POSTed list page (a list API) is one page per form: /fjdzapp/search page=1, page=2, …
        self.list_pages.add(response.url + ("#" + repr(sorted(form.items())) if form else ""))
        depth = response.meta.get("nav_depth", 0)
        entries = self.column_entries(response)
        for link in entries:
            title = recognise_title(link.text)
            if title is not None:
                yield from self.follow_entry(link, response, title)
            elif is_year_column(link) or (is_column_link(link) and not link.in_chrome) or \
                    is_sub_column(link, response.url):
                yield from self.follow(link.url, "column", depth + 1, **fragment_of(link))
            elif is_article_url(link.url) and not link.in_chrome and self.same_site(link.url):
                yield from self.follow(link.url, "article", depth + 1)
        for walker in self.walkers:
            for page in walker.pages(response):
                if page.method == "GET" and page.url in self.list_pages:
                    continue
                yield from self.follow_page(page, depth + 1)
        yield from self.discovery.column_parsed(response, entries)

    def column_entries(self, response: TextResponse) -> list[Link]:
        seen: dict[str, Link] = {}
        if self.selectors.get("entries"):
            fragment = "".join(Selector(text=response.text).css(self.selectors["entries"]).getall())
            return links_from_html(fragment, response.url)
        for walker in self.walkers:
            for link in walker.entries(response):
                seen.setdefault(link.url, link)
        return list(seen.values())

    def follow_page(self, page, depth: int) -> Iterable[Request]:
        return self.follow(page.url, "list", depth, method=page.method, formdata=page.formdata,
                           nianbao_form=page.formdata, **({API_META: page.api} if page.api else {}))

    def follow_entry(self, link: Link, response: Response, title) -> Iterable[Request | ReportPage]:
        if is_attachment(link.url):
            # A report published only as a file, listed directly in the column.
            if link.url not in self.report_urls:
                self.report_urls.add(link.url)
                self.reports_by_year[title.year] += 1
                yield ReportPage(
                    site=self.site_key, url=link.url, title=title.title,
                    agency=title.agency or self.site_name, year=title.year, published=None,
                    format=attachment_kind(link.url) or "file", attachments=[link.url],
                    column_url=self.columns[0] if self.columns else None, site_code=self.site_code,
                    agency_from="title" if title.agency else "site",
                )
            yield from self.follow(link.url, "attachment", report_url=link.url, label=link.text)
        else:
            yield from self.follow(link.url, "article", response.meta.get("nav_depth", 0) + 1, link_text=link.text)

    # ------------------------------------------------------------------ articles
    def parse_article(self, response: TextResponse):
        sel = Selector(text=response.text)
        meta = read_page_meta(sel, response.url)
        title = recognise_title(meta.title or "") or recognise_title(response.meta.get("link_text", ""))
        if title is None:
            self.other_pages += 1
            yield OtherPage(site=self.site_key, url=response.url, title=meta.title, reason="title is not a 年报")
            return
        agency, agency_from = choose_agency(title.agency, meta.source, self.site_name)
        attachments = [
            link.url for link in page_links(response)
            if is_attachment(link.url) and not link.in_chrome and self.same_site(link.url)
        ]
        body = content_text(sel)
        if len(body) < 300:  # little text: a report published as pictures (（图片版）) is in its images (read by OCR)
            attachments += [u for u in content_images(sel, response.url)
                            if u not in attachments and self.same_site(u)]
        fmt = "attachment" if attachments and len(body) < 300 else "html"
        if response.url not in self.report_urls:
            self.report_urls.add(response.url)
            self.reports_by_year[title.year] += 1
        not_modified = is_not_modified(response)
        if not_modified:
            # The archived copy came back from a 304: its attachments were not re-listed, re-check them too.
            attachments = sorted(set(attachments) | set(self.history.attachments_of(response.url)))
        yield ReportPage(
            site=self.site_key, url=response.url, title=title.title, agency=agency, year=title.year,
            published=meta.published, format=fmt, attachments=attachments,
            column_url=self.columns[0] if self.columns else None,
            site_code=meta.site_code or self.site_code, agency_from=agency_from,
            body=response.body, content_type=f"text/html; charset={response.encoding}", status=response.status,
            not_modified=not_modified, listed=self.listed(response),
            truncated=truncation_reason(response), capture_id=response.meta.get(CAPTURE_ID_META),
        )
        labels = {link.url: link.text for link in page_links(response)}
        for url in attachments:
            yield from self.follow(url, "attachment", report_url=response.url, label=labels.get(url, ""))

    def parse_attachment(self, response: Response):
        report_url = response.meta.get("report_url")
        if report_url is None:
            return
        yield from self.discovery.listed_file(response)
        self.attachment_urls.add(response.url)
        content_type = response.headers.get("Content-Type")
        yield ReportAttachment(
            site=self.site_key, url=response.url, report_url=report_url, label=response.meta.get("label", ""),
            content_type=content_type.decode("latin-1") if content_type else None,
            size=len(response.body), sha256=hashlib.sha256(response.body).hexdigest(),
            body=response.body, status=response.status, not_modified=is_not_modified(response),
            truncated=truncation_reason(response), capture_id=response.meta.get(CAPTURE_ID_META),
        )

    # ------------------------------------------------------------------ known pages
    def spider_idle(self) -> None:
        """Once the portal has been walked, fetch the known report pages it no longer lists: a 404 is evidence
        that the report was removed, a 200 that it is still there, unlisted."""
        if self.discovery.busy():
            raise DontCloseSpider  # a column is being rendered: its API requests are still to come
        if self.rechecked:
            return
        self.rechecked = True
        urls = [u for u in self.history.unlisted_reports(self.site_key) if u not in self.report_urls]
        if urls and self.crawler.stats.get_value("nianbao/blocked/gave_up"):
            self.logger.warning("the portal blocks the crawl: %d known report page(s) not re-checked", len(urls))
            return
        for url in urls:
            role = "attachment" if is_attachment(url) else "recheck"
            for request in self.follow(url, role, 0, report_url=url, label=""):
                self.crawler.engine.crawl(request)
        if urls:
            self.logger.info("re-checking %d known report page(s) not listed any more", len(urls))
            raise DontCloseSpider

    # ------------------------------------------------------------------ helpers
    def same_site(self, url: str) -> bool:
        return in_scope(url, getattr(self, "allowed_domains", None) or [])

    def listing_blocked(self) -> bool:
        """Whether the portal blocked a page of the walk to the lists (home, navigation, column, list page): what
        this run saw listed is then incomplete."""
        return any(b["role"] in ("start", "nav", "column", "list") for b in self.blocked)

    def listed(self, response: Response) -> bool | None:
        """A report page found by walking the lists is listed; a re-checked known page is not, unless the walk
        was blocked: then nobody knows (None), and not being listed is no evidence of removal."""
        if response.meta.get("role") != "recheck":
            return True
        return None if self.listing_blocked() else False

    def on_blocked(self, failure: Failure):
        """An anti-bot answer (crawler.middlewares.BlockedAnswerMiddleware gave up retrying): recorded for the
        site, never as an error of the page or its removal."""
        request, blocked = failure.request, failure.value
        block = blocked.block
        role = request.meta.get("role", "")
        self.blocked.append({"url": request.url, "role": role, "status": block.status,
                             "signature": block.signature, "detail": block.detail})
        self.logger.warning("blocked: %s answered %s (HTTP %d)%s: %s", request.url, block.signature, block.status,
                            f" from {block.url}" if block.url != request.url else "", block.detail)
        yield PageBlocked(site=self.site_key, url=request.url, status=block.status, signature=block.signature,
                          detail=block.detail, role=role, seen_url=block.url if block.url != request.url else None,
                          capture_ids=blocked.capture_ids)

    def on_error(self, failure: Failure):
        request = failure.request
        if failure.check(Blocked):
            yield from self.on_blocked(failure)
            return
        if failure.check(IgnoreRequest) and not failure.check(HttpError):
            # Refused before the network by robots.txt or the scope guard: policy, not a fetch error.
            self.crawler.stats.inc_value("nianbao/ignored_requests")
            self.logger.info("not fetched: %s (%s)", request.url, failure.getErrorMessage())
            return
        status = failure.value.response.status if failure.check(HttpError) else None
        reason = f"HTTP {status}" if status else f"{failure.type.__name__}: {failure.getErrorMessage()}"[:300]
        role = request.meta.get("role", "")
        if role in ("article", "attachment", "recheck"):
            # Evidence for change detection: a known report that is gone, or could not be fetched this time.
            capture_id = request.meta.get(CAPTURE_ID_META)
            if status in (404, 410):
                yield PageGone(site=self.site_key, url=request.url, status=status, capture_id=capture_id)
            else:
                yield FetchFailed(site=self.site_key, url=request.url, reason=reason, capture_id=capture_id)
        if role == "recheck" and status in (404, 410):
            self.logger.info("known report page gone: %s (%s)", request.url, reason)
            return
        self.errors.append({"url": request.url, "role": role, "error": reason})
        self.logger.warning("fetch failed: %s (%s)", request.url, reason)

    def summary(self) -> dict[str, Any]:
        crawler = getattr(self, "crawler", None)
        stats = crawler.stats if crawler is not None else None
        return {
            "site": self.site_key,
            "name": self.site_name,
            "column_found": bool(self.columns),
            "column_url": self.columns[0] if self.columns else None,
            "columns": self.columns,
            "cms": self.cms or self.detected_cms,
            "list_pages": len(self.list_pages),
            "reports": len(self.report_urls),
            "reports_by_year": dict(sorted(self.reports_by_year.items())),
            "attachments": len(self.attachment_urls),
            "other_pages": self.other_pages,
            "errors": len(self.errors),
            "error_list": self.errors[:50],
            "browser": self.discovery.summary(),
            "blocked": len(self.blocked),
            "blocked_by": dict(Counter(b["signature"] for b in self.blocked).most_common()),
            "blocked_list": self.blocked[:50],
            "blocked_not_sent": int(stats.get_value("nianbao/blocked/not_sent", 0) or 0) if stats else 0,
        }

    def closed(self, reason: str) -> None:
        self.discovery.close()
        self.crawler.stats.set_value("nianbao/summary", self.summary())
        self.crawler.stats.set_value("nianbao/finish_reason", reason)


def is_not_modified(response: Response) -> bool:
    """True when the body is the archived copy handed back for a 304 (archive/ sets the flag)."""
    return "not_modified" in (response.flags or []) or bool(response.meta.get("nianbao_not_modified"))


def fragment_of(link: Link) -> dict[str, str]:
    """The category fragment of a link, as request meta (single-page-app columns such as gkmlpt)."""
    return {"fragment": link.fragment} if link.fragment else {}
