"""Requests a run has not completed (a 5xx, a network error, a body cut short), fetched again by `--resume`.

A stopped run keeps its Scrapy JOBDIR: the queue of pending requests and the dupefilter's seen set. A request
that failed is in neither the queue (it was taken from it) nor anywhere a resumed run would look again (its
parent page was completed, so nothing rediscovers it, and the seen set would filter it anyway). Such a report
would be lost for the run. So `RecordUnfinished` (a downloader middleware below Retry) keeps a log in the
JOBDIR, `unfinished.log`: each final outcome that leaves a request unfinished, and its later completion;
`RequeueUnfinished` (a spider middleware) puts the still-unfinished requests first into a resumed run's
start. When the JOBDIR's queue was lost (a killed run: archive/jobstate.py prepare_resume), the log goes with it:
the run restarts from its start URLs and rediscovers those requests itself.

The log is a sequence of pickles (Scrapy's own disk queues pickle requests too); a record torn by a kill ends
the reading, it cannot corrupt what came before.
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from scrapy.utils.request import request_from_dict

from archive.jobstate import UNFINISHED_LOG
from crawler.middlewares import truncation_reason

logger = logging.getLogger(__name__)

FAILED, DONE = "failed", "done"


def log_path(jobdir: str | Path) -> Path:
    return Path(jobdir) / UNFINISHED_LOG


def read_unfinished(path: Path) -> dict[str, dict[str, Any]]:
    """Fingerprint -> request dict of every request whose last logged outcome left it unfinished."""
    state: dict[str, dict[str, Any] | None] = {}
    if not path.exists():
        return {}
    with path.open("rb") as f:
        while True:
            try:
                fingerprint, outcome, request = pickle.load(f)
            except EOFError:
                break
            except (pickle.UnpicklingError, ValueError, TypeError, AttributeError, ImportError, IndexError) as exc:
                logger.warning("%s: a torn record at byte %d ends the log (%s)", path, f.tell(), exc)
                break
            state[fingerprint] = request if outcome == FAILED else None
    return {fp: request for fp, request in state.items() if request is not None}


def _picklable(request_dict: dict[str, Any]) -> dict[str, Any]:
    try:
        pickle.dumps(request_dict)
        return request_dict
    except Exception:  # a middleware's object in meta: keep every plain value, which is what the spider set
        meta = {}
        for key, value in (request_dict.get("meta") or {}).items():
            try:
                pickle.dumps(value)
            except Exception:
                continue
            meta[key] = value
        return {**request_dict, "meta": meta}


class RecordUnfinished:
    """Log final failures (after Retry gave up) and later completions of requests, in the JOBDIR."""

    def __init__(self, crawler) -> None:
        self.crawler = crawler
        jobdir = crawler.settings.get("JOBDIR")
        self.path = log_path(jobdir) if jobdir else None
        self.unfinished = set(read_unfinished(self.path)) if self.path else set()

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _log(self, request: Request, outcome: str) -> None:
        if self.path is None:
            return
        fingerprint = self.crawler.request_fingerprinter.fingerprint(request).hex()
        if outcome == DONE and fingerprint not in self.unfinished:
            return
        entry = _picklable(request.to_dict(spider=self.crawler.spider)) if outcome == FAILED else None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("ab") as f:
            pickle.dump((fingerprint, outcome, entry), f, protocol=4)
        (self.unfinished.add if outcome == FAILED else self.unfinished.discard)(fingerprint)

    def process_response(self, request: Request, response: Response) -> Response:
        unfinished = response.status >= 500 or truncation_reason(response) is not None
        self._log(request, FAILED if unfinished else DONE)
        return response

    def process_exception(self, request: Request, exception: BaseException) -> None:
        if not isinstance(exception, IgnoreRequest):  # policy (robots.txt, scope), not a fetch that failed
            self._log(request, FAILED)
        return None


class RequeueUnfinished:
    """A resumed run starts with the requests its stopped run left unfinished (not filtered: the seen set
    already holds them)."""

    def __init__(self, crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        jobdir = self.crawler.settings.get("JOBDIR")
        if jobdir and self.crawler.settings.getbool("NIANBAO_RESUME"):
            unfinished = read_unfinished(log_path(jobdir))
            if unfinished:
                logger.info("fetching again %d request(s) the stopped run left unfinished", len(unfinished))
                self.crawler.stats.set_value("nianbao/refetched_unfinished", len(unfinished))
            for entry in unfinished.values():
                request = request_from_dict(entry, spider=self.crawler.spider)
                yield request.replace(dont_filter=True)
        async for item_or_request in start:
            yield item_or_request
