"""Anti-bot answers are recognised (crawler/blocking.py) from the bytes the products serve (tests/challenge_pages.py),
and ordinary answers are not; the downloader middleware retries them a few times with back-off, then hands the
spider a `Blocked` with every capture of them."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import challenge_pages as pages
import pytest
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Request, Response
from scrapy.utils.test import get_crawler

from crawler.blocking import Blocked, classify, is_verification_url
from crawler.middlewares import BlockedAnswerMiddleware, VerificationRedirectGuard

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "nianbao" / "portal" / "data" / "realpages"
URL = "https://www.example.gov.cn/zwgk/zfxxgknb/202503/t20250321_1.html"


@pytest.mark.parametrize("status, body, headers, signature", [
    (412, pages.RUISHU_412, pages.RUISHU_HEADERS, "ruishu-412"),
    (202, pages.RUISHU_412, pages.RUISHU_HEADERS, "ruishu-202"),
    (200, pages.RUISHU_412, pages.RUISHU_HEADERS, "ruishu-200"),
    (521, pages.JIASULE_521, pages.JIASULE_HEADERS, "jiasule-521"),
    (521, pages.JIASULE_GO, {"Content-Type": "text/html"}, "jiasule-521"),
    (200, pages.YUNSUO_200, pages.YUNSUO_HEADERS, "yunsuo-200"),
    (200, pages.WZWS_200, {"Content-Type": "text/html"}, "wzws-200"),
    (403, pages.CLOUDFLARE_403, {"Content-Type": "text/html; charset=UTF-8"}, "cloudflare-403"),
    (403, pages.SAFEDOG_403, {"Content-Type": "text/html; charset=utf-8"}, "waf-403"),
    (200, pages.JS_REQUIRED, {"Content-Type": "text/html; charset=utf-8"}, "js-required"),
    (200, pages.COOKIE_CHALLENGE, {"Content-Type": "text/html"}, "cookie-challenge"),
    (200, pages.REFRESH_SELF, {"Content-Type": "text/html"}, "refresh-stub"),
    (200, pages.META_REFRESH_TO_WAF, {"Content-Type": "text/html"}, "verify-redirect"),
    (200, pages.SCRIPT_STUB, {"Content-Type": "text/html"}, "script-stub"),
    (302, b"", {"Location": "/waf_verify.htm?url=%2Fzwgk%2F"}, "verify-redirect"),
    (302, b"", {"Location": "https://captcha.example-waf.com/check?from=www.example.gov.cn"}, "verify-redirect"),
    (468, b"", {}, "http-468"),
    (412, b"<html><body>Precondition Failed</body></html>", {"Content-Type": "text/html"}, "http-412"),
    (521, b"", {}, "http-521"),
])
def test_challenges_are_recognised(status: int, body: bytes, headers: dict, signature: str) -> None:
    block = classify(status, body, URL, headers=headers)
    assert block is not None and block.signature == signature, block
    assert block.status == status and block.url == URL and block.detail


def test_a_redirect_followed_to_a_verification_page_is_a_block() -> None:
    block = classify(200, pages.NOT_FOUND, "https://www.example.gov.cn/captcha/index.html",
                     redirected_from=[URL])
    assert block is not None and block.signature == "verify-redirect" and URL in block.detail


def test_the_product_markers_count_only_where_they_matter() -> None:
    # A home or navigation page may be a script-only page: only the products' signatures count there.
    assert classify(200, pages.SCRIPT_STUB, URL, expect_content=False) is None
    assert classify(200, pages.COOKIE_CHALLENGE, URL, expect_content=False).signature == "cookie-challenge"
    assert classify(412, pages.RUISHU_412, URL, expect_content=False).signature == "ruishu-412"


@pytest.mark.parametrize("status, body, headers", [
    (200, pages.HOME_META_REFRESH, {"Content-Type": "text/html"}),
    (200, pages.HOME_JS_REDIRECT, {"Content-Type": "text/html"}),
    (200, pages.SPA_SHELL, {"Content-Type": "text/html; charset=utf-8"}),
    (404, pages.NOT_FOUND, {"Content-Type": "text/html"}),
    (500, b"<html><body><h1>500 Internal Server Error</h1></body></html>", {"Content-Type": "text/html"}),
    (521, pages.CLOUDFLARE_521_DOWN, {"Content-Type": "text/html; charset=UTF-8"}),
    (302, b"", {"Location": "/zwgk/zfxxgknb/index.html"}),
    (301, b"", {"Location": "https://www.example.gov.cn/zwgk/"}),
    (200, b"", {"Content-Type": "text/html"}),
    (200, b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<</Type/Catalog>>endobj\n", {"Content-Type": "application/pdf"}),
])
def test_ordinary_answers_are_not_blocks(status: int, body: bytes, headers: dict) -> None:
    assert classify(status, body, URL, headers=headers) is None


@pytest.mark.parametrize("name", ["pingtan-2025-report.html", "pingtan-nianbao-list.html",
                                  "shanghai-2019-report-fragment.html"])
def test_real_portal_pages_are_not_blocks_even_with_a_products_script(name: str) -> None:
    body = (REAL / name).read_bytes()
    assert classify(200, body, URL, headers={"Content-Type": "text/html; charset=utf-8"}) is None
    # 瑞数 injects its $_ts script into the real pages once a browser has passed; many pages carry a noscript
    # notice. With content, neither is a challenge.
    injected = (body.replace(b"<head>", b"<head>" + pages.RUISHU_INJECTED, 1) if b"<head>" in body
                else pages.RUISHU_INJECTED + body)
    assert classify(200, injected, URL) is None
    noscript = body + "<noscript>请开启JavaScript</noscript>".encode()
    assert classify(200, noscript, URL) is None


@pytest.mark.parametrize("url, verify", [
    ("https://www.example.gov.cn/waf/verify.html", True),
    ("https://www.example.gov.cn/waf_verify.htm?url=%2F", True),
    ("https://www.example.gov.cn/captcha/index.html", True),
    ("https://www.example.gov.cn/verifyCode.jsp?r=1", True),
    ("https://www.example.gov.cn/cdn-cgi/challenge-platform/h/g", True),
    ("https://www.example.gov.cn/index.html?security_verify_data=313932302c31303830", True),
    ("https://www.example.gov.cn/zwgk/zfxxgknb/index.html", False),
    ("https://www.example.gov.cn/zfxxgk/fdzdgknr/ndbg/", False),
    ("https://www.wafangdian.gov.cn/zwgk/", False),  # 瓦房店: "waf" inside a word is no WAF
])
def test_verification_urls(url: str, verify: bool) -> None:
    assert is_verification_url(url) is verify


# ------------------------------------------------------------------------------------------------- middleware
def _middleware(**settings) -> BlockedAnswerMiddleware:
    crawler = get_crawler(settings_dict={"NIANBAO_DOWNLOAD_DELAY": 2.0, **settings})
    crawler.engine = SimpleNamespace(downloader=SimpleNamespace(slots={"www.example.gov.cn": SimpleNamespace(delay=2.0)}))
    return BlockedAnswerMiddleware(crawler)


def _answer(request: Request, status: int = 412, body: bytes = pages.RUISHU_412, capture: str = "") -> Response:
    if capture:
        request.meta["nianbao_capture_id"] = capture  # what archive.capture.WarcCapture sets on each download
    return HtmlResponse(url=request.url, status=status, body=body, encoding="utf-8", request=request,
                        headers=pages.RUISHU_HEADERS)


def _request(url: str = URL, role: str = "recheck") -> Request:
    return Request(url, meta={"role": role, "download_slot": "www.example.gov.cn"})


def test_a_blocked_answer_is_retried_twice_with_back_off_then_blocked() -> None:
    mw = _middleware()
    slot = mw.crawler.engine.downloader.slots["www.example.gov.cn"]
    request = _request()
    retry = mw.process_response(request, _answer(request, capture="<urn:uuid:1>"))
    assert isinstance(retry, Request) and retry.dont_filter and retry.meta["nianbao_blocked_retries"] == 1
    assert slot.delay == 10.0  # NIANBAO_BLOCKED_BACKOFF (5) times the site's delay (2 s)
    again = mw.process_response(retry, _answer(retry, capture="<urn:uuid:2>"))
    assert isinstance(again, Request) and again.meta["nianbao_blocked_retries"] == 2
    assert slot.delay == 20.0  # doubled
    with pytest.raises(Blocked) as raised:
        mw.process_response(again, _answer(again, capture="<urn:uuid:3>"))
    assert raised.value.block.signature == "ruishu-412"
    assert raised.value.capture_ids == ["<urn:uuid:1>", "<urn:uuid:2>", "<urn:uuid:3>"]
    assert slot.delay == 40.0
    stats = mw.crawler.stats.get_stats()
    assert stats["nianbao/blocked/ruishu-412"] == 3 and stats["nianbao/blocked/retried"] == 2
    for _ in range(3):
        with pytest.raises(Blocked):
            mw.process_response(again, _answer(again))
    assert slot.delay == 60.0  # never past AUTOTHROTTLE_MAX_DELAY


def test_an_ordinary_answer_passes_untouched() -> None:
    mw = _middleware()
    request = _request()
    page = _answer(request, status=200, body=(REAL / "pingtan-2025-report.html").read_bytes())
    assert mw.process_response(request, page) is page
    robots = Request("https://www.example.gov.cn/robots.txt")
    blocked_robots = _answer(robots)
    assert mw.process_response(robots, blocked_robots) is blocked_robots  # robots.txt is Scrapy's business
    assert mw.crawler.engine.downloader.slots["www.example.gov.cn"].delay == 2.0


def test_the_retries_of_a_site_are_bounded_and_a_site_that_only_blocks_is_given_up() -> None:
    mw = _middleware(NIANBAO_BLOCKED_RETRY_BUDGET=3, NIANBAO_BLOCKED_GIVE_UP=4)
    outcomes = []
    for n in range(4):
        request = _request(f"{URL}?n={n}")
        while True:
            try:
                result = mw.process_response(request, _answer(request))
            except Blocked:
                outcomes.append("blocked")
                break
            outcomes.append("retry")
            request = result
    # 3 retries in all (2 for the first request, 1 for the second), then every blocked answer is final.
    assert outcomes == ["retry", "retry", "blocked", "retry", "blocked", "blocked", "blocked"]
    assert mw.crawler.stats.get_value("nianbao/blocked/gave_up") == 4
    with pytest.raises(IgnoreRequest):
        mw.process_request(_request(URL + "?later"))
    mw.process_request(Request("https://www.example.gov.cn/robots.txt"))  # not refused


def test_an_answer_between_blocked_ones_resets_the_count() -> None:
    mw = _middleware(NIANBAO_BLOCKED_RETRY_TIMES=0, NIANBAO_BLOCKED_GIVE_UP=2)
    request = _request()
    with pytest.raises(Blocked):
        mw.process_response(request, _answer(request))
    mw.process_response(request, _answer(request, status=200, body=(REAL / "pingtan-2025-report.html").read_bytes()))
    with pytest.raises(Blocked):
        mw.process_response(request, _answer(request))
    mw.process_request(_request())  # one blocked answer in a row: still crawling


def test_a_redirect_to_a_verification_page_is_not_followed() -> None:
    guard = VerificationRedirectGuard()
    request = _request()
    to_waf = Response(URL, status=302, headers={"Location": "/waf/verify.html"}, request=request)
    assert guard.process_response(request, to_waf) is to_waf and request.meta["dont_redirect"] is True
    mw = _middleware()
    retry = mw.process_response(request, to_waf)
    assert isinstance(retry, Request) and "dont_redirect" not in retry.meta  # the retry may follow a real redirect
    moved = _request()
    elsewhere = Response(URL, status=301, headers={"Location": "/zwgk/zfxxgknb/"}, request=moved)
    assert guard.process_response(moved, elsewhere) is elsewhere and "dont_redirect" not in moved.meta
