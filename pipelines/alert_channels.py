"""Delivering a digest through Apprise URLs: per-channel byte limits, UTF-8-safe cuts, retries.

Apprise's own `overflow=split` counts characters, not bytes, so a Chinese message it thinks fits is rejected
by WeCom or DingTalk (3 bytes per character). We cut each message ourselves to the channel's byte budget,
on a UTF-8 character boundary (preferring a line end), mark the cut and link to the full digest.

Each channel gets its own `apprise.Apprise()` so its result is known; a failing channel is retried with
exponential back-off and reported, never raised: an alert failure must not fail a crawl.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any
from urllib.parse import urlsplit

import apprise

# Bytes of UTF-8 (title + body) each Apprise scheme may carry. Figures from the services' documented limits
# and from what Apprise 2.3 actually sends (read in its plugins):
#   wecombot   Apprise posts msgtype "text" (not markdown), whose content is limited to 2048 bytes; the title
#              is prepended to the body. 4096 would only hold for msgtype "markdown".
#   dingtalk   20000 bytes of message text; Apprise repeats the title as a "# heading" inside it.
#   feishu     the whole request body must stay under 20 KB; Apprise sends the text or a markdown card as
#   lark       UTF-8 JSON (ensure_ascii=False), so keep room for the JSON envelope and escaped newlines.
#   json, mailto, ntfy …  no practical limit for a digest; 200000 keeps a runaway digest sane.
CHANNEL_LIMITS: dict[str, int] = {
    "wecombot": 2048,
    "dingtalk": 20000,
    "feishu": 18000,
    "lark": 18000,
    "json": 200000,
    "jsons": 200000,
    "mailto": 200000,
    "mailtos": 200000,
}
DEFAULT_LIMIT = 4000  # unknown schemes (chat services mostly allow 4000+ characters)
# Room for what the service wraps around our text (title separators, "# " heading, markdown conversion).
_ENVELOPE_BYTES = 64

CUT_MARKER = "…（内容过长已截断，全文：{link}）"
CUT_MARKER_NO_LINK = "…（内容过长已截断）"

log = logging.getLogger(__name__)


def scheme_of(url: str) -> str:
    return url.split("://", 1)[0].lower() if "://" in url else ""


def channel_limit(url: str) -> int:
    """Byte budget for title plus body on the channel this Apprise URL points at."""
    return CHANNEL_LIMITS.get(scheme_of(url), DEFAULT_LIMIT)


def _utf8_prefix(data: bytes, limit: int) -> bytes:
    """The longest prefix of UTF-8 `data` of at most `limit` bytes that ends on a character boundary."""
    if limit >= len(data):
        return data
    end = max(limit, 0)
    while end > 0 and (data[end] & 0xC0) == 0x80:  # data[end] continues the character started before it
        end -= 1
    return data[:end]


def fit_to_limit(body: str, limit_bytes: int, link: str | None) -> str:
    """`body` if it fits in `limit_bytes` of UTF-8, else a cut of it plus a marked cut, within the limit.

    The cut never splits a character; it falls on a line end when one lies in the last half of what fits,
    so markdown lines (a table cell change, a diff line) stay whole.
    """
    data = body.encode("utf-8")
    if len(data) <= limit_bytes:
        return body
    marker = "\n\n" + (CUT_MARKER.format(link=link) if link else CUT_MARKER_NO_LINK)
    marker_bytes = marker.encode("utf-8")
    room = limit_bytes - len(marker_bytes)
    head = _utf8_prefix(data, room) if room > 0 else b""
    line_end = head.rfind(b"\n")
    if line_end > len(head) // 2:
        head = head[:line_end]
    kept = head.decode("utf-8").rstrip()
    if not kept:  # no room for any of the body: the marker alone (cut too if it must be)
        return _utf8_prefix(marker_bytes.lstrip(b"\n"), limit_bytes).decode("utf-8")
    return kept + marker


def mask_url(url: str) -> str:
    """The channel URL with secrets hidden (Apprise's privacy form) and without its query string."""
    try:
        app = apprise.Apprise()
        if app.add(url):
            return app.urls(privacy=True)[0].split("?", 1)[0]
    except Exception:  # noqa: BLE001 - masking must never fail the caller
        pass
    parts = urlsplit(url)
    return f"{parts.scheme}://…" if parts.scheme else "…"


def _level_number(level: Any) -> int:
    """A log level as a number: Apprise's log entries carry the level's name ("WARNING"), not logging's int."""
    if isinstance(level, int):
        return level
    if isinstance(level, str):
        number = logging.getLevelName(level.strip().upper())  # the name's number once registered
        if isinstance(number, int):
            return number
    return logging.WARNING


_ERRNO = re.compile(r"\[Errno -?\d+\][^\"')(]*")
_URL_IN_TEXT = re.compile(r"(?:with url: |https?://)\S+")


def _exception_reason(message: str) -> str | None:
    """The cause in one of Apprise's DEBUG "… Exception: …" lines, without URL paths (they can hold tokens).

    "Socket Exception: HTTPConnectionPool(...): Max retries exceeded with url: /hook (Caused by
    NewConnectionError(... [Errno 111] Connection refused))" gives "[Errno 111] Connection refused".
    """
    if "Exception:" not in message:
        return None
    found = _ERRNO.search(message)
    if found:
        return found.group(0).strip()
    detail = _URL_IN_TEXT.sub("…", message.split("Exception:", 1)[1]).strip()
    return detail[:200] or None


def _send_once(url: str, title: str, body: str) -> tuple[bool, str | None]:
    """Send once; on failure the reason is what Apprise logged (its warnings, plus the exception's cause).

    Apprise reports a failed delivery only through its logs. Its per-call `log_callback` gets entries at or
    above the logger's effective level, so `apprise.LogCapture` lowers that to DEBUG for the call, where the
    socket or TLS exception is logged; the callback keeps warnings and those exception causes.
    """
    app = apprise.Apprise()
    if not app.add(url):
        return False, "not a valid Apprise URL"
    messages: list[str] = []

    def keep(entry: Any, _plugin: Any = None) -> None:
        message = str(getattr(entry, "message", entry)).strip()
        if _level_number(getattr(entry, "level", logging.WARNING)) >= logging.WARNING:
            reason: str | None = message
        else:
            reason = _exception_reason(message)
        if reason and reason not in messages:
            messages.append(reason)

    with apprise.LogCapture(level=logging.DEBUG):
        ok = app.notify(body=body, title=title, body_format=apprise.NotifyFormat.MARKDOWN,
                        log_callback=keep, log_level=logging.DEBUG)
    if ok:
        return True, None
    return False, "; ".join(messages[-3:]) or "delivery failed"


def send_digest(
    digest: Any, urls: list[str], *, retries: int = 3, backoff: float = 1.0
) -> list[dict[str, Any]]:
    """Send `digest` (title, body, link) to every Apprise URL; one result per channel, never raises.

    `retries` is the number of attempts per channel in all (at least one); between attempts the wait is
    backoff, 2×backoff, 4×backoff … seconds. Result: {"channel" (secrets masked), "status" ("sent" or
    "failed"), "attempts", "message_bytes", "error", "body"}; "body" is the message as cut for that channel.
    """
    results = []
    for url in urls:
        result: dict[str, Any] = {"channel": mask_url(url), "status": "failed", "attempts": 0,
                                  "message_bytes": 0, "error": None, "body": ""}
        try:
            title = digest.title
            limit = channel_limit(url) - len(title.encode("utf-8")) - _ENVELOPE_BYTES
            body = fit_to_limit(digest.body, max(limit, 0), getattr(digest, "link", None))
            result["body"] = body
            result["message_bytes"] = len(title.encode("utf-8")) + len(body.encode("utf-8"))
            for attempt in range(1, max(retries, 1) + 1):
                result["attempts"] = attempt
                try:
                    ok, error = _send_once(url, title, body)
                except Exception as exc:  # noqa: BLE001 - a channel's failure is data, not a crash
                    ok, error = False, f"{type(exc).__name__}: {exc}"
                if ok:
                    result["status"], result["error"] = "sent", None
                    break
                result["error"] = error
                if error == "not a valid Apprise URL":
                    break  # retrying cannot help
                if attempt < retries and backoff > 0:
                    time.sleep(backoff * 2 ** (attempt - 1))
        except Exception as exc:  # noqa: BLE001
            result["error"] = f"{type(exc).__name__}: {exc}"
        if result["status"] != "sent":
            log.warning("alert to %s failed after %d attempt(s): %s", result["channel"], result["attempts"],
                        result["error"])
        results.append(result)
    return results
