"""Scrapy settings for nianbao: polite by default, as government portals deserve.

Per-site values (delay, concurrency, data folder, crawl id) are layered on top of these by
`nianbao.runner` for each site's crawler; see README.md for what each one means.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("nianbao")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

BOT_NAME = "nianbao"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# Who we are: an identifying User-Agent with a contact address (NIANBAO_CONTACT overrides the address).
NIANBAO_CONTACT = "nianbao@users.noreply.github.com"
USER_AGENT = f"nianbao/{__version__} (+https://github.com/nianbao/nianbao; {NIANBAO_CONTACT})"

# Politeness.
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 1
# The delay users configure (NIANBAO_DOWNLOAD_DELAY, seconds) is a floor: nianbao.runner turns it into Scrapy's
# DOWNLOAD_DELAY / DOWNLOAD_DELAY_JITTER so that the random jitter only ever lengthens the pause.
NIANBAO_DOWNLOAD_DELAY = 2.0
NIANBAO_DELAY_JITTER = 0.5
DOWNLOAD_DELAY = 2.0
DOWNLOAD_DELAY_JITTER = 0.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 2.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
# The floor is also enforced where requests reach the network (crawler/handlers.py).
DOWNLOAD_HANDLERS = {
    "http": "crawler.handlers.PoliteHTTPDownloadHandler",
    "https": "crawler.handlers.PoliteHTTPDownloadHandler",
}
# Back-off on 429/503 and Retry-After (crawler.middlewares.RetryAfterMiddleware).
NIANBAO_RETRY_AFTER_MAX = 600.0

# Robustness.
RETRY_ENABLED = True
RETRY_TIMES = 3
# Never the anti-bot statuses (412, 468, 521): anti-bot answers are retried by BlockedAnswerMiddleware alone.
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
# Anti-bot answers (crawler/blocking.py, crawler.middlewares.BlockedAnswerMiddleware): retries per request and per
# site and run; each blocked answer doubles the site's delay, from NIANBAO_BLOCKED_BACKOFF times the configured
# delay (10 s by default) to at most AUTOTHROTTLE_MAX_DELAY; after NIANBAO_BLOCKED_GIVE_UP blocked answers in a
# row nothing more is requested from the site in this run.
NIANBAO_BLOCKED_RETRY_TIMES = 2
NIANBAO_BLOCKED_RETRY_BUDGET = 6
NIANBAO_BLOCKED_BACKOFF = 5.0
NIANBAO_BLOCKED_GIVE_UP = 10
DOWNLOAD_TIMEOUT = 60
DOWNLOAD_MAXSIZE = 200 * 1024 * 1024
DOWNLOAD_WARNSIZE = 50 * 1024 * 1024
DOWNLOAD_FAIL_ON_DATALOSS = False
REDIRECT_MAX_TIMES = 10
# Archive-friendly encodings: only what replay tools are tested with (see archive/).
DEFAULT_REQUEST_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5",
    "Accept-Encoding": "gzip, deflate",
}

# Scope and trap bounds.
DEPTH_LIMIT = 16
URLLENGTH_LIMIT = 1024
NIANBAO_MAX_PAGES_PER_SITE = 20000
# Sites crawled at once in one run (a bounded pool: a site starts when another ends); 0 = 48 per core.
NIANBAO_SITES_IN_FLIGHT = 0
NIANBAO_NAV_DEPTH = 4
# Browser-assisted API discovery (crawler/discovery.py): renders per site and run of columns nothing else can walk
# (0: never), seconds per render, and the Chromium to drive (default: Debian's chromium on PATH).
NIANBAO_BROWSER_RENDERS = 3
NIANBAO_BROWSER_TIMEOUT = 60
NIANBAO_CHROMIUM = ""

# Never expose a control surface on a crawling machine.
REMOTE_CONTROL_ENABLED = False
TELNETCONSOLE_ENABLED = False

COOKIES_ENABLED = True
HTTPCACHE_ENABLED = False

DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.middlewares.RobotsTxtWaitMiddleware": 100,
    "crawler.middlewares.ScopeMiddleware": 50,
    "crawler.middlewares.RetryAfterMiddleware": 560,
    # Outside RedirectMiddleware (600): a redirect to a verification page is not followed, it is an answer.
    "crawler.middlewares.VerificationRedirectGuard": 610,
    # Between HttpCompressionMiddleware (590) and MetaRefreshMiddleware (580), outside both retries (550, 560):
    # recognises anti-bot answers in decompressed bodies, before a meta refresh is followed.
    "crawler.middlewares.BlockedAnswerMiddleware": 585,
    # Above HttpCompressionMiddleware (590): sees the body as sent, flags a compressed stream cut short.
    "crawler.middlewares.TruncatedBodyMiddleware": 595,
    # Below HttpCompressionMiddleware (590): process_response runs after decompression.
    "crawler.middlewares.EncodingRepairMiddleware": 580,
    # Below RetryMiddleware (550): sees final outcomes only; logs what --resume must fetch again.
    "crawler.refetch.RecordUnfinished": 540,
    # Incremental recrawls: a resumed run answers completed requests from the archive; every request carries
    # the validators of its last capture, and a 304 hands the spider the archived response (archive/).
    "archive.conditional.ReplayCompleted": 955,
    "archive.conditional.ConditionalRequests": 960,
}
SPIDER_MIDDLEWARES = {
    "crawler.refetch.RequeueUnfinished": 10,  # a resumed run starts with what its stopped run left unfinished
}
EXTENSIONS = {
    "archive.capture.WarcCapture": 0,
    "crawler.progress.ProgressLine": 10,
    # One root-logger counting handler for the run, not one per crawler (crawler/logcount.py).
    "scrapy.extensions.logcount.LogCount": None,
    "crawler.logcount.LogCountPerSite": 0,
    # Out of descriptors, disk or memory: an error of the site it hits, which stops cleanly (crawler/resources.py).
    "crawler.resources.ResourceWatch": 0,
    # Scrapy's AutoThrottle never lowers the delay after a non-200, so a recrawl full of 304s would crawl at
    # the pace of its slowest page.
    "scrapy.extensions.throttle.AutoThrottle": None,
    "archive.throttle.NotModifiedAutoThrottle": 0,
}
# WARC deduplication: 304s and already archived payloads become revisit records.
WARC_DEDUP = True
WARC_REVISIT_REQUESTS = False
NIANBAO_CONDITIONAL = True
# Job state (JOBDIR) kept in memory and written when the site closes: no descriptors held per site for it.
DUPEFILTER_CLASS = "crawler.jobfiles.SeenOnClose"
SCHEDULER_DISK_QUEUE = "crawler.jobfiles.PickleLifoQueueOnClose"
# Each step does one thing: store what was found, extract it, then detect changes against earlier versions.
ITEM_PIPELINES = {
    "pipelines.store.StoreDiscoveries": 300,
    "pipelines.extraction.ExtractReports": 400,
    "pipelines.versions.TrackVersions": 500,
}

NIANBAO_DATA_DIR = "data"
LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"
