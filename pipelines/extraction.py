"""Extract every fetched report document (HTML page or attachment) in a separate worker process.

The extraction itself lives in pipelines/extract/ (`extract_document` never raises: failures are a status on
its result). This step decides what to extract and runs it away from the crawl:
- in another process, so a CPU-heavy PDF neither stalls the reactor nor holds the GIL the crawl needs;
- because lxml XPath evaluators compiled at module level (trafilatura's) are not thread-safe: concurrent
  extraction threads crashed the whole crawl once (`munmap_chunk(): invalid pointer`);
- under a CPU-time and an address-space limit per document (`Limits`): a PDF bomb or a 10,000-column table
  ends as a failed extraction with the reason, and a native crash kills only the worker, which is replaced;
- and the workers die with the crawl process (PR_SET_PDEATHSIG), even when it is SIGKILLed.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from crawler.items import ReportAttachment, ReportPage

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    """What one document may cost in its worker. Over the limit, the document ends as a failed extraction with
    the reason, and the crawl goes on (settings NIANBAO_EXTRACT_CPU_SECONDS, NIANBAO_EXTRACT_MEMORY_MB,
    NIANBAO_EXTRACT_WORKERS)."""

    cpu_seconds: int = 60
    memory_mb: int = 1024
    workers: int = max(1, min(2, (os.cpu_count() or 1) - 1))


_pool: ProcessPoolExecutor | None = None
_pool_limits: Limits | None = None
_pool_lock = threading.Lock()
_limits = Limits()


def configure(limits: Limits) -> None:
    """Set the limits of the workers started from now on."""
    global _limits
    _limits = limits


def _die_with_parent() -> None:
    """Linux: the kernel sends SIGKILL to this worker when the crawl process dies, even by SIGKILL."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the pool's own shutdown is the only guard
        pass


def _worker_init(memory_mb: int) -> None:
    import resource

    _die_with_parent()
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


class MissingDependency(RuntimeError):
    """The extraction stack cannot be imported: the installation is broken, every document would fail."""


def check_environment() -> None:
    """Import the whole extraction stack once, before a crawl, so that a broken installation (e.g. jusText's
    `lxml.html.clean` without `lxml_html_clean`) stops the run loudly, naming the missing piece, instead of
    failing every document one by one."""
    try:
        import docx  # noqa: F401
        import justext  # noqa: F401
        import lxml.html.clean  # noqa: F401
        import pdfplumber  # noqa: F401
        import trafilatura  # noqa: F401

        from pipelines.extract import extract_document  # noqa: F401
    except ImportError as exc:
        missing = getattr(exc, "name", None) or str(exc)
        raise MissingDependency(f"extraction cannot run: {exc} (missing: {missing}); reinstall nianbao "
                                "(pip install -e . or make demo) so that every declared requirement is present") from exc


def _failed(url: str, message: str):
    from pipelines.extract import model

    return model.Extraction(status=model.ERROR, message=message, url=url)


def extract(body: bytes, url: str, content_type: str | None, filename: str | None = None,
            cpu_seconds: int | None = None):
    """The extraction of one document (in the worker: under its CPU limit, counted from now)."""
    if cpu_seconds:
        import resource

        used = resource.getrusage(resource.RUSAGE_SELF)
        spent = int(used.ru_utime + used.ru_stime) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (spent + cpu_seconds, resource.RLIM_INFINITY))
    try:
        from pipelines.extract import extract_document
    except ImportError as exc:  # an environment error: say which piece is missing
        return _failed(url, f"environment: {exc}")
    try:
        return extract_document(body, url=url, content_type=content_type, filename=filename)
    except MemoryError:
        return _failed(url, "memory limit exceeded")
    except ImportError as exc:
        return _failed(url, f"environment: {exc}")
    except Exception as exc:  # extract_document should not raise; a bug there must not drop the item
        logger.exception("extraction raised for %s", url)
        return _failed(url, f"extraction raised {type(exc).__name__}: {exc}")


def pool() -> ProcessPoolExecutor:
    global _pool, _pool_limits
    with _pool_lock:
        if _pool is None:
            # spawn, not fork: the crawl process runs threads (reactor, portal) that fork would copy mid-flight.
            # One task per worker life would be safest but costs a start-up per document; a worker killed by its
            # CPU limit is replaced instead.
            _pool_limits = _limits
            _pool = ProcessPoolExecutor(max_workers=_limits.workers, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_worker_init, initargs=(_limits.memory_mb,))
        return _pool


def shutdown_pool() -> None:
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.shutdown(wait=True, cancel_futures=True)
            _pool = None


def _replace_broken_pool(broken: ProcessPoolExecutor) -> None:
    global _pool
    with _pool_lock:
        if _pool is broken:
            broken.shutdown(wait=False, cancel_futures=True)
            _pool = None


async def extract_in_worker(body: bytes, url: str, content_type: str | None, filename: str | None = None):
    executor = pool()
    limits = _pool_limits or _limits
    try:
        result = await asyncio.wrap_future(
            executor.submit(extract, body, url, content_type, filename, limits.cpu_seconds))
    except BrokenProcessPool:
        _replace_broken_pool(executor)
        result = _failed(url, f"the extraction worker was killed: over its limits (CPU {limits.cpu_seconds} s, "
                              f"memory {limits.memory_mb} MB) or a crash on this document")
    if getattr(result, "status", None) == "error":
        logger.warning("extraction failed for %s: %s", url, getattr(result, "message", ""))
    return result


class ExtractReports:
    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        configure(Limits(
            cpu_seconds=settings.getint("NIANBAO_EXTRACT_CPU_SECONDS", Limits.cpu_seconds),
            memory_mb=settings.getint("NIANBAO_EXTRACT_MEMORY_MB", Limits.memory_mb),
            workers=settings.getint("NIANBAO_EXTRACT_WORKERS", Limits().workers),
        ))
        return cls()

    async def process_item(self, item):
        if getattr(item, "not_modified", False):
            return item  # a 304: the archived version stands, nothing new to extract
        if isinstance(item, ReportPage) and item.body is not None and item.format in ("html", "attachment"):
            item.extraction = await extract_in_worker(item.body, item.url, item.content_type)
        elif isinstance(item, ReportAttachment) and item.body is not None:
            item.extraction = await extract_in_worker(item.body, item.url, item.content_type, item.label)
        return item
