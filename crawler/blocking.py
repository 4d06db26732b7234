"""Anti-bot answers: the portal answered a challenge instead of the page asked for.

Many government portals sit behind a WAF or an anti-bot product. To a client that does not run their JavaScript
(nianbao does not, and does not try to pass their challenges) they answer a challenge page, often with a status
that is neither an error of the page nor its absence. Such an answer is *blocked*: recorded with what was seen,
never evidence that a report was removed (crawler.middlewares.BlockedAnswerMiddleware acts on `classify`).

| signature | what it looks like |
|---|---|
| `ruishu-<status>` (瑞数 Botgate) | HTTP 412 (older versions 202): `<meta content="…" r="m">`, an inline `$_ts=window['$_ts'];…$_ts.nsd=…;$_ts.cd="…"` script, a `<script src="/<random>/<random>.<hash>.js" r='m'>`, an empty body; `Set-Cookie: <name>S=…` |
| `jiasule-<status>` (加速乐) | HTTP 521 and `Set-Cookie: __jsluid_h=…`; the body is one script, `document.cookie=('_')+('_')+('j')+…;location.href=location.pathname+location.search` (the cookie `__jsl_clearance_s` spelled one character at a time), then a second page calling `go({…"tn":"__jsl_clearance_s"…})` |
| `yunsuo-<status>` (云锁) | a script page with `YunSuoAutoJump` / `security_verify_data`, cookie `yunsuo_session_verify` |
| `wzws-<status>` (360 网站卫士) | a script page computing `wzwschallenge` from `wzwsquestion` / `wzwsfactor`, cookie `wzws_cid` |
| `cloudflare-<status>` | "Just a moment...", `/cdn-cgi/challenge-platform/` |
| `waf-<status>` | a WAF's block page (网站防火墙, 安全狗, 访问被拦截 …) |
| `verify-redirect` | a redirect (3xx `Location`, meta refresh, a script assigning `location`) to a verification page: `/waf/`, `verify…`, `captcha`, `challenge` |
| `js-required` | a page without content asking for JavaScript (请开启JavaScript, 请启用JavaScript …) |
| `cookie-challenge` | a page without text whose script sets `document.cookie` and reloads the page |
| `refresh-stub` | a page without text that refreshes to itself |
| `script-stub` | where content was expected (a column, list or report page, a report file): at most a few KB of inline script, no text, no link, no redirect elsewhere, no application mount point |
| `http-412`, `http-468`, `http-521` | those statuses with a body none of the above recognises (Cloudflare's 521 "Web server is down" is the origin failing, not a block) |

A product's marker in a page *with* content is not a block (瑞数 also injects its `$_ts` script into the real
pages once the browser has passed): for a 2xx answer the page must be a stub, with fewer than STUB_TEXT visible
characters.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urldefrag, urljoin

from scrapy.exceptions import IgnoreRequest

from domain.decode import decode, looks_binary

BLOCKING_STATUSES = (412, 468, 521)
MAX_INSPECT = 256 * 1024  # how much of a body is read for the products' markers
STUB_MAX = 64 * 1024  # a larger page is never a stub (a 瑞数 412 page is a few KB, its $_ts.cd included)
STUB_TEXT = 80  # visible characters: a challenge page has none, a page with content has its navigation at least
STUB_BYTES = 4096  # the size of a script-only page counted as a stub where content was expected

_INVISIBLE = re.compile(r"(?is)<!--.*?-->|<(script|style|template|noscript)\b[^>]*>.*?</\1\s*>|<head\b.*?</head\s*>")
_SCRIPTS = re.compile(r"(?is)<script\b[^>]*>(.*?)</script\s*>")
_TAG = re.compile(r"(?s)<[^>]*>")
_META = re.compile(r"(?is)<meta\b[^>]*>")
_LINK = re.compile(r"(?is)<a\b[^>]*\bhref\s*=")
_MOUNT = re.compile(r"""(?i)<div\b[^>]*\bid\s*=\s*['"]?(?:app|root)\b""")

RUISHU = re.compile(r"\$_ts\s*=\s*window\[|\$_ts\.(?:nsd|cd)\s*=")
JIASULE = re.compile(r"__jsl_clearance|go\(\s*\{[^}]*\"tn\"\s*:\s*\"__jsl")
YUNSUO = re.compile(r"YunSuoAutoJump|security_verify_data|yunsuo_session_verify")
WZWS = re.compile(r"wzwschallenge|wzwsquestion|wzwsfactor|wzwstemplate")
CLOUDFLARE = re.compile(r"/cdn-cgi/challenge-platform/|\bcf[-_]chl[-_]|<title>\s*Just a moment\.\.\.\s*</title>", re.I)
CLOUDFLARE_DOWN = re.compile(r"Web server is down", re.I)
WAF_PAGE = re.compile(r"网站防火墙|安全狗|safedog|云防护|访问被拦截|请求被拦截|请求已被拦截|访问已被拦截|您的访问被阻断"
                      r"|疑似黑客攻击|WAF拦截|被网站管理员设置为拦截", re.I)
JS_REQUIRED = re.compile(r"(?:请|需要)(?:您)?(?:开启|启用|打开|允许)[^<>]{0,12}(?:JavaScript|JS|脚本)"
                         r"|浏览器[^<>]{0,8}(?:不支持|禁用|关闭)(?:了)?[^<>]{0,4}(?:JavaScript|脚本)"
                         r"|(?:enable|turn on|requires?)\s+JavaScript|JavaScript\s+(?:is\s+)?(?:disabled|required)",
                         re.I)
COOKIE_SET = re.compile(r"document\.cookie\s*=")
RELOAD = re.compile(r"location\.reload\s*\(|location(?:\.href)?\s*=\s*(?:window\.|document\.|self\.|top\.)?location\b"
                    r"|location\.(?:replace|assign)\s*\(\s*(?:window\.|document\.|self\.|top\.)?location\b"
                    r"|history\.go\s*\(\s*0?\s*\)")
JS_LOCATION = re.compile(r"""location(?:\.href)?\s*=\s*['"]([^'"]+)['"]|location\.(?:replace|assign)\s*\(\s*['"]([^'"]+)['"]""")
VERIFY_URL = re.compile(r"(?i)(?:^|[/._?&=#-])(?:waf|captcha\w*|verif\w*|challenge\w*|seccheck|security[-_]?check"
                        r"|anti[-_]?bot|human[-_]?check|slide[-_]?verify)(?:$|[/._?&=#-])")


@dataclass(frozen=True)
class Block:
    """What a blocked answer showed: which signature, the status and the URL it came from, and a note."""

    signature: str
    status: int
    url: str
    detail: str

    def describe(self) -> str:
        return f"{self.signature} (HTTP {self.status}) at {self.url}: {self.detail}"


class Blocked(IgnoreRequest):
    """Raised by the middleware once a request's retries of a blocked answer are spent; the spider's errback
    records it. `capture_ids` are the WARC records of every blocked answer to the request (retries included)."""

    def __init__(self, block: Block, capture_ids: Iterable[str] = ()) -> None:
        super().__init__(f"blocked: {block.describe()}")
        self.block = block
        self.capture_ids = [c for c in capture_ids if c]


def is_verification_url(url: str) -> bool:
    """A URL naming a verification page: /waf/, verify…, captcha…, challenge… (scheme left out)."""
    return bool(VERIFY_URL.search(url.split("://", 1)[-1]))


def visible_text(text: str) -> str:
    """The characters a reader would see: no head, script, style, noscript or comments; whitespace dropped."""
    return re.sub(r"\s+", "", html.unescape(_TAG.sub(" ", _INVISIBLE.sub(" ", text))))


def _header(headers: Mapping[str, str | list[str]] | None, name: str) -> list[str]:
    if not headers:
        return []
    for key, value in headers.items():
        if key.lower() == name:
            return [value] if isinstance(value, str) else list(value)
    return []


def _refresh_targets(text: str) -> list[str]:
    """The URL of each meta refresh ("" for a refresh of the page itself)."""
    targets = []
    for tag in _META.findall(text):
        if not re.search(r"""http-equiv\s*=\s*['"]?\s*refresh""", tag, re.I):
            continue
        content = re.search(r"""content\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", tag, re.I)
        value = next((g for g in content.groups() if g is not None), "") if content else ""
        match = re.match(r"""\s*[\d.]*\s*[;,]?\s*(?:url\s*=\s*)?['"]?([^'"]*)""", value, re.I)
        targets.append(match.group(1).strip() if match else "")
    return targets


def _same_page(target: str, url: str) -> bool:
    return not target or urldefrag(urljoin(url, target))[0] == urldefrag(url)[0]


def _is_html(body: bytes, content_type: str | None) -> bool:
    if content_type and "html" not in content_type.lower() and "text/plain" not in content_type.lower():
        return body.lstrip()[:1] == b"<" and not looks_binary(body)
    return not looks_binary(body)


def _deobfuscated(text: str) -> str:
    """加速乐 spells its cookie name one character at a time: ('_')+('_')+('j')+… → ('__j…')."""
    return re.sub(r"""['"]\s*\)\s*\+\s*\(\s*['"]""", "", text)


def classify(status: int, body: bytes, url: str, *, headers: Mapping[str, str | list[str]] | None = None,
             expect_content: bool = True, redirected_from: Iterable[str] = ()) -> Block | None:
    """The anti-bot signature an answer matches, or None when it is an ordinary answer (the page, an error, a
    404). `expect_content`: the request was for a column, list or report page or a report file (a home page or a
    navigation page may legitimately be a script that sends the browser elsewhere). `redirected_from`: the URLs
    the request was redirected from to reach `url`."""
    location = _header(headers, "location")
    if 300 <= status < 400 and location:
        target = urljoin(url, location[-1].strip())
        if is_verification_url(target):
            return Block("verify-redirect", status, url, f"redirects to the verification page {target}")
    redirected_from = list(redirected_from)
    if redirected_from and is_verification_url(url) and not is_verification_url(redirected_from[0]):
        return Block("verify-redirect", status, url, f"{redirected_from[0]} redirected to a verification page")
    content_type = (_header(headers, "content-type") or [None])[-1]
    cookies = " ".join(_header(headers, "set-cookie"))
    text = decode(body[:MAX_INSPECT], content_type)[0] if body and _is_html(body[:8192], content_type) else ""
    visible = len(visible_text(text)) if text and len(body) <= STUB_MAX else None
    stub = visible is not None and visible < STUB_TEXT
    # A product's marker: in any answer that is not a success, and in a success only when it has no content.
    ok = 200 <= status < 300
    if text and (stub or not ok):
        if RUISHU.search(text):
            return Block(f"ruishu-{status}", status, url, "a $_ts challenge script (瑞数) instead of the page")
        if JIASULE.search(_deobfuscated(text)) or ("__jsluid" in cookies and COOKIE_SET.search(text)):
            return Block(f"jiasule-{status}", status, url, "a __jsl_clearance cookie challenge (加速乐)")
        if YUNSUO.search(text) or ("yunsuo_session" in cookies and _SCRIPTS.search(text)):
            return Block(f"yunsuo-{status}", status, url, "a security_verify challenge (云锁)")
        if WZWS.search(text) or ("wzws_cid" in cookies and _SCRIPTS.search(text)):
            return Block(f"wzws-{status}", status, url, "a wzwschallenge script (360 网站卫士)")
        if CLOUDFLARE.search(text) and not CLOUDFLARE_DOWN.search(text):
            return Block(f"cloudflare-{status}", status, url, "a Cloudflare browser challenge")
    # The cheap test first: searching a whole page for the WAF words costs more than the rest of this function.
    if text and (not ok or (visible is not None and visible < 4 * STUB_TEXT)) and WAF_PAGE.search(text):
        return Block(f"waf-{status}", status, url, "a WAF block page: " + WAF_PAGE.search(text).group(0))
    scripts = "\n".join(_SCRIPTS.findall(text)) if stub else ""
    literal = [a or b for a, b in JS_LOCATION.findall(scripts)]
    refreshes = _refresh_targets(text) if stub else []
    if stub:
        for target in literal + refreshes:
            if target and is_verification_url(urljoin(url, target)):
                return Block("verify-redirect", status, url, f"sends the browser to the verification page {target}")
        if JS_REQUIRED.search(re.sub(r"\s+", "", html.unescape(_TAG.sub(" ", text)))):
            return Block("js-required", status, url, "a page without content asking for JavaScript")
        if COOKIE_SET.search(scripts) and (RELOAD.search(scripts) or any(_same_page(t, url) for t in refreshes)):
            return Block("cookie-challenge", status, url, "a script that sets a cookie and reloads the page")
        if refreshes and all(_same_page(t, url) for t in refreshes):
            return Block("refresh-stub", status, url, "a page without content that refreshes itself")
    if status in BLOCKING_STATUSES and not (status == 521 and CLOUDFLARE_DOWN.search(text)):
        return Block(f"http-{status}", status, url, f"HTTP {status}, an anti-bot status")
    if (stub and ok and expect_content and len(body) <= STUB_BYTES and scripts.strip()
            and not _LINK.search(text) and not _MOUNT.search(text)
            and not any(t and not _same_page(t, url) for t in literal + refreshes)):
        return Block("script-stub", status, url, f"{len(body)} bytes of script and no content where content was expected")
    return None
