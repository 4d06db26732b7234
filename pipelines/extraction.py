"""Extract every fetched report document (HTML page or attachment) in a separate worker process.

The extraction itself lives in pipelines/extract/ (`extract_document` never raises: failures are a status on
its result). This step decides what to extract and runs it away from the crawl:
- in another process, so a CPU-heavy PDF neither stalls the reactor nor holds the GIL the crawl needs;
- in a process, not a thread: lxml XPath evaluators compiled at module level (trafilatura's) are not
  thread-safe, and concurrent use corrupts memory (`munmap_chunk(): invalid pointer`);
- under a CPU-time and an address-space limit per document (`Limits`): a PDF bomb or a 10,000-column table
  ends as a failed extraction with the reason, and a native crash kills only the worker, which is replaced;
  the CPU limit also covers the OCR of scanned pages, whose tesseract runs are children of the worker, each
  bounded by what the document has left and killed on expiry (pipelines/extract/ocr.py);
- and the workers die with the crawl process, even when it is SIGKILLed: they are forked by a fork server that
  exits when the crawl process ends, and die with it (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

from crawler.items import ReportAttachment, ReportPage

logger = logging.getLogger(__name__)


MAX_DEFAULT_WORKERS = 4


def default_workers() -> int:
    """Extraction workers by default: one per core this process may run on, at most MAX_DEFAULT_WORKERS (the
    pool starts a worker only when every running one is busy, so a small crawl still starts one)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_DEFAULT_WORKERS))


@dataclass(frozen=True)
class Limits:
    """What one document may cost in its worker. Over the limit, the document ends as a failed extraction with
    the reason, and the crawl goes on (settings NIANBAO_EXTRACT_CPU_SECONDS, NIANBAO_EXTRACT_MEMORY_MB,
    NIANBAO_EXTRACT_WORKERS, NIANBAO_EXTRACT_CONVERT_SECONDS). A DOC/WPS conversion runs LibreOffice as a child
    of the worker, whose CPU is not the worker's: `convert_seconds` bounds its wall time and the CPU time of each
    of its processes, and the worker's memory limit is inherited (pipelines/extract/office.py)."""

    cpu_seconds: int = 60
    memory_mb: int = 1024
    workers: int = field(default_factory=default_workers)
    convert_seconds: float = 60.0


_pool: ProcessPoolExecutor | None = None
_pool_limits: Limits | None = None
_pool_lock = threading.Lock()
_limits = Limits()
_inflight: dict[int, int] = {}          # id(executor) -> documents submitted to it and not yet answered
_broken_reasons: dict[int, str] = {}   # id(executor) -> why its worker died, read once before it is shut down
_environment_logged = False
CPU_GRACE = 10     # s of CPU after the limit before the kernel kills a worker stuck in native code (SIGPROF)


def configure(limits: Limits) -> None:
    """Set the limits of the workers started from now on."""
    global _limits
    _limits = limits


class CpuLimitExceeded(BaseException):
    """Raised in the worker by SIGXCPU (the soft RLIMIT_CPU of the document): a BaseException, so that the
    readers' `except Exception` does not swallow it."""


_task_running = False   # in the worker: a document is being extracted (SIGXCPU outside one is ignored)
_task_cpu_seconds = 0


def _on_sigxcpu(signum, frame) -> None:  # noqa: ARG001
    if _task_running:
        raise CpuLimitExceeded


def _die_with_parent(crawl: int) -> None:
    """The worker ends when the crawl process dies, even by SIGKILL: Linux's PR_SET_PDEATHSIG on its parent (the
    fork server, which exits when the crawl process does; with spawn, the crawl process itself), and everywhere a
    daemon thread that watches both (PDEATHSIG follows the thread that forked the worker)."""
    import signal

    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the watcher below is the guard
        pass
    parent = os.getppid()

    def alive() -> bool:
        if os.getppid() != parent:
            return False
        try:
            os.kill(crawl, 0)
        except (ProcessLookupError, PermissionError):  # PermissionError: another user's process has the pid
            return False
        return True

    def watch() -> None:
        import time

        while alive():
            time.sleep(0.5)
        os._exit(70)

    if not alive():  # the crawl or the fork server died before the prctl above
        os._exit(70)
    threading.Thread(target=watch, name="nianbao-parent-watch", daemon=True).start()


def _worker_init(memory_mb: int, parent: int, convert_seconds: float | None = None,
                 environ: dict[str, str] | None = None, cwd: str | None = None) -> None:
    import resource
    import signal
    import tempfile

    _die_with_parent(parent)
    if environ is not None:  # the crawl's environment when the pool was made, not the fork server's at its start
        os.environ.clear()
        os.environ.update(environ)
        tempfile.tempdir = None  # TMPDIR read again
    if cwd is not None:
        os.chdir(cwd)
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    signal.signal(signal.SIGXCPU, _on_sigxcpu)
    try:
        from pipelines.extract import document

        document.MEMORY_LIMIT_MB = memory_mb
        if convert_seconds:
            from pipelines.extract import office

            office.TIMEOUT = convert_seconds
    except ImportError:  # reported per document by extract()
        pass


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


def _environment_failure(url: str, exc: ImportError):
    name = getattr(exc, "name", None)
    return _failed(url, f"environment: missing module {name}: {exc}" if name else f"environment: {exc}")


def extract(body: bytes, url: str, content_type: str | None, filename: str | None = None,
            cpu_seconds: int | None = None, memory_mb: int | None = None):
    """The extraction of one document. In the worker (cpu_seconds given): under a CPU limit counted from now,
    the soft RLIMIT_CPU, whose SIGXCPU ends the document with the reason and leaves the worker running; and,
    should a native call hold on past it without coming back to Python, a CPU timer (ITIMER_PROF, whose
    SIGPROF is left to its default action) that kills the worker CPU_GRACE s later. The address-space limit is
    the worker initializer's. (RLIMIT_CPU's hard limit cannot serve: a process may not raise it again.)"""
    global _task_running
    if not cpu_seconds:
        return _extract(body, url, content_type, filename, memory_mb)
    import resource
    import signal

    used = resource.getrusage(resource.RUSAGE_SELF)
    spent = int(used.ru_utime + used.ru_stime) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (spent + cpu_seconds, resource.RLIM_INFINITY))
    signal.setitimer(signal.ITIMER_PROF, cpu_seconds + CPU_GRACE)
    _task_running = True
    _ocr_budget(cpu_seconds)
    try:
        return _extract(body, url, content_type, filename, memory_mb)
    except CpuLimitExceeded:
        return _failed(url, f"CPU limit {cpu_seconds} s exceeded")
    finally:
        _task_running = False
        _ocr_budget(None)
        signal.setitimer(signal.ITIMER_PROF, 0)
        resource.setrlimit(resource.RLIMIT_CPU, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


def _ocr_budget(seconds: int | None) -> None:
    """OCR runs tesseract as children of the worker, whose CPU RLIMIT_CPU does not count: the document's CPU
    limit covers the worker and its tesseract runs together (pipelines/extract/ocr.py checks it before each run,
    bounds each run by what is left and kills a run that goes over)."""
    try:
        from pipelines.extract import ocr
    except ImportError:  # reported per document by _extract()
        return
    ocr.set_budget(seconds)


def _extract(body: bytes, url: str, content_type: str | None, filename: str | None, memory_mb: int | None):
    try:
        from pipelines.extract import extract_document
    except ImportError as exc:  # an environment error: say which piece is missing
        return _environment_failure(url, exc)
    try:
        return extract_document(body, url=url, content_type=content_type, filename=filename)
    except MemoryError:
        return _failed(url, f"memory limit {memory_mb} MB exceeded" if memory_mb else "out of memory")
    except ImportError as exc:
        return _environment_failure(url, exc)
    except Exception as exc:  # extract_document should not raise; a bug there must not drop the item
        logger.exception("extraction raised for %s", url)
        return _failed(url, f"extraction raised {type(exc).__name__}: {exc}")


# What the fork server imports once, so that each worker it forks starts with the extraction stack loaded (a
# worker of its own imports would cost about a second of CPU to start; a missing module is reported per document).
PRELOAD = ["pipelines.extraction", "pipelines.extract", "pipelines.extract.htmlpage", "pipelines.extract.pdf",
           "pipelines.extract.docx", "trafilatura", "pdfplumber"]


def _context() -> multiprocessing.context.BaseContext:
    """Workers forked by a fork server: not forked from the crawl process, whose threads (reactor, portal) fork
    would copy mid-flight, but from a single-threaded process started clean beside it (like spawn), which
    imports the extraction stack once. It exits when the crawl process ends, killed or not, and its workers
    die with it (PR_SET_PDEATHSIG). Spawn where there is no fork server (not POSIX)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


def pool() -> ProcessPoolExecutor:
    global _pool, _pool_limits
    with _pool_lock:
        if _pool is None:
            # One task per worker life would be safest but costs a start-up per document; a worker killed by its
            # limits is replaced instead. The pool starts workers on demand (a new one only when no started one
            # is idle), up to max_workers.
            _pool_limits = _limits
            try:
                cwd: str | None = os.getcwd()
            except OSError:  # the working directory was removed: the workers keep the fork server's
                cwd = None
            _pool = ProcessPoolExecutor(max_workers=_limits.workers, mp_context=_context(),
                                        initializer=_worker_init,
                                        initargs=(_limits.memory_mb, os.getpid(), _limits.convert_seconds,
                                                  dict(os.environ), cwd))
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


def _death_reason(broken: ProcessPoolExecutor, limits: Limits) -> str:
    """Why a worker of `broken` died, from the exit codes the pool kept (private, hence the care)."""
    import signal

    codes = []
    for process in list((getattr(broken, "_processes", None) or {}).values()):
        code = process.exitcode  # a non-blocking poll: the dead worker's code is there, the others may not be
        if code is not None and code != -signal.SIGTERM:  # SIGTERM: the pool stopping the survivors
            codes.append(code)
    if -signal.SIGXCPU in codes:
        return f"CPU limit {limits.cpu_seconds} s exceeded (worker killed by SIGXCPU)"
    if -signal.SIGPROF in codes:  # the backstop of extract(): native code that never came back to Python
        return (f"CPU limit {limits.cpu_seconds} s exceeded (worker killed in native code after "
                f"{limits.cpu_seconds + CPU_GRACE} s)")
    if -signal.SIGKILL in codes:
        return f"the extraction worker was killed (SIGKILL): memory limit {limits.memory_mb} MB exceeded?"
    what = ", ".join(str(c) for c in codes) or "unknown"
    return (f"the extraction worker died (exit code {what}): over its limits (CPU {limits.cpu_seconds} s, "
            f"memory {limits.memory_mb} MB) or a crash on this document")


async def extract_in_worker(body: bytes, url: str, content_type: str | None, filename: str | None = None):
    """The document's extraction in a worker process, always a result (never None): a document over its
    limits or whose worker died ends as an "error" extraction with the reason, and the crawl goes on."""
    global _environment_logged
    result = None
    for attempt in range(2):
        executor = pool()
        limits = _pool_limits or _limits
        key = id(executor)
        _inflight[key] = _inflight.get(key, 0) + 1
        try:
            result = await asyncio.wrap_future(executor.submit(
                extract, body, url, content_type, filename, limits.cpu_seconds, limits.memory_mb))
            break
        except BrokenProcessPool:
            # Every document in flight in that pool lands here. Alone in it, this one broke it; otherwise try
            # once more on a fresh pool, where another document cannot break it for this one (alone or again).
            alone = _inflight.get(key, 0) <= 1
            reason = _broken_reasons.setdefault(key, _death_reason(executor, limits))
            _replace_broken_pool(executor)
            if alone or attempt:
                result = _failed(url, reason)
        finally:
            _inflight[key] -= 1
            if not _inflight[key]:
                del _inflight[key]
                _broken_reasons.pop(key, None)
        if result is not None:
            break
    message = str(getattr(result, "message", "") or "")
    if message.startswith("environment:"):
        if not _environment_logged:
            _environment_logged = True
            logger.error("extraction cannot run on this machine: %s (logged once; each document that needs it "
                         "fails the same way, with this message on its capture)", message)
    elif getattr(result, "status", None) == "error":
        logger.warning("extraction failed for %s: %s", url, message)
    return result


class ExtractReports:
    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        configure(Limits(
            cpu_seconds=settings.getint("NIANBAO_EXTRACT_CPU_SECONDS", Limits.cpu_seconds),
            memory_mb=settings.getint("NIANBAO_EXTRACT_MEMORY_MB", Limits.memory_mb),
            workers=settings.getint("NIANBAO_EXTRACT_WORKERS", Limits().workers),
            convert_seconds=settings.getfloat("NIANBAO_EXTRACT_CONVERT_SECONDS", Limits.convert_seconds),
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
