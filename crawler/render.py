"""Render one column page in headless Chromium and say what it asked for: `python -m crawler.render`.

Run by crawler/discovery.py as a child process (its own session, killed when over time), never inside the
crawl's reactor. It reads one JSON job on the first line of stdin, then drives Debian's Chromium through
Playwright (`executable_path`), and writes one JSON line `{"result": …}` to stdout:

- the page itself is **not fetched again**: the browser gets the bytes the crawl already has (and archived);
- every other request the page makes is first put to the parent as `{"ask": url, "type": resource type}` and
  made only when it answers `{"allowed": true}` (the parent applies the site's scope and robots.txt); images,
  fonts, media and style sheets are never requested; requests go one at a time, each `delay` seconds after the
  previous one ended, with the crawl's User-Agent; service workers and WebSockets are refused;
- the result lists the XHR/fetch requests (method, URL, body, the headers that matter, the answer's status,
  type and first 2 MB) and the links of the rendered page and its frames.

What the browser fetched is not evidence: the parent replays the API requests through the normal crawl.
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
import time
from typing import Any

FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--dns-prefetch-disable",
         "--disable-extensions", "--mute-audio"]
NEVER = {"image", "media", "font", "stylesheet", "manifest", "texttrack", "eventsource", "websocket", "ping",
         "beacon", "other"}
MAX_BODY = 2 * 1024 * 1024
KEPT_HEADERS = ("content-type", "x-requested-with", "accept")


class Parent:
    """The question channel to the crawl: one question at a time over stdin/stdout."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()

    async def allowed(self, url: str, kind: str) -> bool:
        async with self.lock:
            sys.stdout.write(json.dumps({"ask": url, "type": kind}) + "\n")
            sys.stdout.flush()
            line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        try:
            return bool(json.loads(line).get("allowed"))
        except (ValueError, AttributeError):
            return False


async def render(job: dict[str, Any], async_playwright: Any) -> dict[str, Any]:
    url, delay, timeout = job["url"], float(job.get("delay") or 0), float(job.get("timeout") or 60)
    deadline = time.monotonic() + timeout
    parent = Parent()
    slot = asyncio.Semaphore(1)
    # When the last request ended: the next one starts `delay` later, so that the server sees its requests at
    # least `delay` apart however long each took to reach it. The crawl's own last request ended just before.
    last_end = [time.monotonic()]
    holding: set[int] = set()
    records: list[dict[str, Any]] = []
    pending: list[asyncio.Task] = []
    refused: list[str] = []
    body = base64.b64decode(job["body"])
    served = [False]

    def release(request: Any) -> None:
        if id(request) in holding:
            holding.discard(id(request))
            last_end[0] = time.monotonic()
            slot.release()

    async def route(route: Any) -> None:
        request = route.request
        if not served[0] and request.is_navigation_request() and request.frame.parent_frame is None:
            served[0] = True  # the column page: the bytes the crawl has
            await route.fulfill(status=200, headers={"Content-Type": job["content_type"]}, body=body)
            return
        if request.resource_type in NEVER or not await parent.allowed(request.url, request.resource_type):
            refused.append(request.url)
            await route.abort("blockedbyclient")
            return
        await slot.acquire()
        wait = last_end[0] + delay - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        holding.add(id(request))
        try:
            await route.continue_()
        except Exception:
            release(request)
            raise

    async def keep(response: Any) -> None:
        request = response.request
        try:
            posted = request.post_data or ""
        except Exception:  # a body that is not text: not replayable as recorded
            posted = ""
        record = {"method": request.method, "url": request.url, "type": request.resource_type,
                  "body": posted, "status": response.status,
                  "headers": {k: v for k, v in request.headers.items() if k.lower() in KEPT_HEADERS},
                  "response_type": response.headers.get("content-type", "")}
        try:
            record["response"] = (await response.body())[:MAX_BODY].decode("utf-8", "replace")
        except Exception as exc:  # the page navigated away, or the body is gone
            record["response"], record["error"] = "", str(exc)[:200]
        records.append(record)

    def on_response(response: Any) -> None:
        if response.request.resource_type in ("xhr", "fetch"):
            pending.append(asyncio.ensure_future(keep(response)))

    phases: dict[str, float] = {}
    mark = time.monotonic()

    def phase(name: str) -> None:
        nonlocal mark
        now = time.monotonic()
        phases[name] = round(now - mark, 3)
        mark = now

    async with async_playwright() as pw:
        phase("driver")
        browser = await pw.chromium.launch(executable_path=job["chromium"], headless=True, args=FLAGS,
                                           timeout=max(1000, (deadline - time.monotonic()) * 1000))
        version = browser.version
        context = await browser.new_context(user_agent=job["user_agent"], service_workers="block",
                                            locale="zh-CN", accept_downloads=False)
        if hasattr(context, "route_web_socket"):
            await context.route_web_socket("**/*", lambda ws: ws.close())
        page = await context.new_page()
        phase("launch")
        await page.route("**/*", route)
        page.on("response", on_response)
        page.on("requestfinished", release)
        page.on("requestfailed", release)
        error = None
        try:
            await page.goto(url, wait_until="load", timeout=max(1000, (deadline - time.monotonic()) * 600))
            phase("load")
            await page.wait_for_load_state("networkidle", timeout=max(1000, (deadline - time.monotonic()) * 800))
        except Exception as exc:  # over time: keep what was recorded so far
            error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
        phase("idle")
        if pending:
            await asyncio.wait(pending, timeout=max(0.5, deadline - time.monotonic() - 2))
        links: list[list[str]] = []
        for frame in page.frames:
            try:
                links += await frame.eval_on_selector_all(
                    "a[href]", "els => els.map(a => [a.href, (a.getAttribute('title') || a.innerText || "
                    "a.textContent || '').trim()])")
            except Exception:  # a frame detached meanwhile
                continue
        await browser.close()
        phase("close")
    return {"ok": True, "error": error, "browser": version, "requests": records, "links": links,
            "refused": refused[:200], "phases": phases}


def main() -> int:
    job = json.loads(sys.stdin.readline())
    started = time.monotonic()
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        result = {"ok": False, "error": "the playwright package is not installed (pip install 'nianbao[browser]')"}
    else:
        try:
            result = asyncio.run(render(job, async_playwright))
        except Exception as exc:
            result = {"ok": False, "error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"}
    result["seconds"] = round(time.monotonic() - started, 3)
    sys.stdout.write(json.dumps({"result": result}, ensure_ascii=False) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
