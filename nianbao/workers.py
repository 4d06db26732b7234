"""Workers on Redis (issue 15 item 3): one RQ job per site, any number of workers, one worker per host at a time.

`enqueue_sites` puts one job per site (its registry entry as data) on the RQ queue `nianbao`; `run_worker` runs
jobs, each crawling its one site into the worker's own data folder (its WARC files and database; `nianbao merge`
folds the folders into one archive). Which guarantee comes from where:

- One worker per host at a time: a lease per host (`nianbao:lease:HOST`, HOST the start URLs' host:port), taken
  with SET NX PX before the crawl (every host of the site, all or none), renewed by a heartbeat thread every
  ttl/5, released at the end. A job that finds a host leased waits for it (a dead holder's lease expires within
  the ttl) and, when a live worker still holds it, puts its site back on the queue.
- No request after the lease could have expired: the crawl's download handler (`LeasedDownloadHandler`) sends a
  request only while the lease is valid by the local clock, i.e. within 0.6 ttl of the last renewal Redis
  acknowledged, and the crawl's DOWNLOAD_TIMEOUT is at most 0.3 ttl: a request sent in time is over before Redis can
  let the lease go. A renewal that finds the lease gone (another holder) stops the crawl at its next request.
- A worker killed with SIGKILL loses only its in-flight site: RQ's work horse (the forked process running the job)
  asks the kernel to kill it when its worker dies (PR_SET_PDEATHSIG), so no orphan keeps crawling; the job's
  entry in RQ's StartedJobRegistry stops being renewed by the worker's heartbeat (every `job_monitoring_interval`)
  and expires `heartbeat_grace` seconds later; the next registry cleanup (every worker runs one when it starts and
  every `maintenance_interval`) finds it abandoned and, the job having retries left (`Retry`), puts it back on
  the queue (RQ's AbandonedJobError path).
- Resume: a job for a site whose run the worker's folder left unfinished (the same worker restarted, or another
  worker given the folder) continues that run with `nianbao crawl --resume` semantics (same run id, completed
  requests answered from the archive). A worker with another folder crawls the site afresh; the dead worker's
  half is still merged (its captures are kept, versions are derived from all captures in time order).
- Job time limit: RQ's job timeout (`enqueue --timeout`); RQ kills the horse after it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from redis import Redis

    from crawler.sites import SiteConfig

log = logging.getLogger(__name__)

QUEUE = "nianbao"
HOME_QUEUE = "nianbao@"   # + a worker's name (its host and folder): the sites that worker crawled last
HOME_PREFIX = "nianbao:home:"  # + a site key: the name of the worker whose folder holds the site's history
HOME_TTL = 90 * 86400
LEASE_PREFIX = "nianbao:lease:"
JOB_PREFIX = "nianbao-site-"
SAFE_FRACTION = 0.6       # a request is sent only within this fraction of the ttl after the last acknowledged renewal
TIMEOUT_FRACTION = 0.3    # the crawl's DOWNLOAD_TIMEOUT is at most this fraction of the ttl

_ACQUIRE = """
for i, key in ipairs(KEYS) do
  if not redis.call('SET', key, ARGV[1], 'NX', 'PX', ARGV[2]) then
    for j = 1, i - 1 do redis.call('DEL', KEYS[j]) end
    return 0
  end
end
return 1
"""
_RENEW = """
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) ~= ARGV[1] then return 0 end
end
for i, key in ipairs(KEYS) do redis.call('PEXPIRE', key, ARGV[2]) end
return 1
"""
_RELEASE = """
local n = 0
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then n = n + redis.call('DEL', key) end
end
return n
"""


class LeaseLost(RuntimeError):
    """The crawl's host lease is no longer surely held: no request may be sent."""


class HostBusy(RuntimeError):
    """Another live worker holds a host of the site."""


def connect(url: str) -> Redis:
    """A Redis connection (`redis://host:port/db`), checked with a PING so that a wrong URL fails at once."""
    from redis import Redis
    from redis.exceptions import RedisError

    try:
        connection = Redis.from_url(url)
        connection.ping()
    except (RedisError, ValueError) as exc:
        raise ConnectionError(f"cannot reach Redis at {url}: {exc}") from None
    return connection


def site_hosts(site: SiteConfig) -> list[str]:
    """The hosts (host:port, lowercase) a site's crawl starts on: what its politeness lease covers."""
    hosts = set()
    for url in site.start_urls:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        hosts.add(f"{(parts.hostname or '').lower()}:{port}")
    return sorted(hosts)


class Lease:
    """A lease on hosts in Redis (see the module docstring): acquire, renew from a heartbeat thread, release."""

    def __init__(self, connection: Redis, hosts: list[str], owner: str, ttl: float) -> None:
        self.connection, self.hosts, self.ttl = connection, hosts, ttl
        self.keys = [LEASE_PREFIX + host for host in hosts]
        self.token = f"{owner}:{uuid.uuid4().hex}"
        self.lost = False
        self._acknowledged = -1e18  # time.monotonic() when the last acquire/renew that Redis confirmed was sent
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._scripts = {name: connection.register_script(src)
                         for name, src in (("acquire", _ACQUIRE), ("renew", _RENEW), ("release", _RELEASE))}

    @property
    def ttl_ms(self) -> int:
        return max(1, int(self.ttl * 1000))

    def _call(self, name: str) -> int:
        return int(self._scripts[name](keys=self.keys, args=[self.token, self.ttl_ms]))

    def acquire(self, wait: float = 0.0, poll: float = 0.2) -> bool:
        """Take the lease on every host (all or none), waiting up to `wait` seconds for a holder's to go."""
        deadline = time.monotonic() + wait
        while True:
            sent = time.monotonic()
            if self._call("acquire"):
                self._acknowledged, self.lost = sent, False
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(poll)

    def renew(self) -> bool:
        sent = time.monotonic()
        try:
            ok = bool(self._call("renew"))
        except Exception as exc:  # a Redis that does not answer: the local clock decides (valid())
            log.warning("lease renewal of %s failed: %s", ", ".join(self.hosts), exc)
            return False
        if ok:
            self._acknowledged = sent
        else:
            self.lost = True
            log.error("lease on %s lost (another holder, or expired): the crawl stops", ", ".join(self.hosts))
        return ok

    def valid(self) -> bool:
        """Whether a request may be sent now: not lost, and within SAFE_FRACTION of the ttl since the last renewal
        Redis confirmed (counted from when it was sent, so Redis's expiry is surely later)."""
        return not self.lost and time.monotonic() < self._acknowledged + SAFE_FRACTION * self.ttl

    def start_heartbeat(self) -> None:
        def beat() -> None:
            while not self._stop.wait(self.ttl / 5):
                if not self.renew() and self.lost:
                    return

        self._thread = threading.Thread(target=beat, name="nianbao-lease", daemon=True)
        self._thread.start()

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.ttl)
        try:
            self._call("release")
        except Exception as exc:  # it expires by itself
            log.warning("lease release of %s failed (it expires in %.0f s): %s", ", ".join(self.hosts), self.ttl, exc)


# The lease of the crawl running in this process (a work horse runs one job), read by LeasedDownloadHandler.
_current_lease: Lease | None = None


def current_lease() -> Lease | None:
    return _current_lease


def _leased_handler_class():
    """The crawl's HTTP handler with the lease check put between the politeness wait and the network (built on
    first use: Scrapy is imported by what crawls only)."""
    from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler

    from crawler.handlers import PoliteHTTPDownloadHandler

    class LeaseCheck(HTTP11DownloadHandler):
        async def download_request(self, request):
            lease = current_lease()
            if lease is not None and not lease.valid():
                crawler = getattr(self, "_nianbao_crawler", None)
                if crawler is not None and crawler.engine is not None and not getattr(self, "_closing", False):
                    self._closing = True
                    from twisted.internet import reactor

                    reactor.callLater(0, _close, crawler)
                raise LeaseLost(f"lease on {', '.join(lease.hosts)} not held: {request.url} not sent")
            return await super().download_request(request)

    class Leased(PoliteHTTPDownloadHandler, LeaseCheck):
        def __init__(self, crawler) -> None:
            super().__init__(crawler)
            self._nianbao_crawler = crawler

    return Leased


def _close(crawler) -> None:
    from scrapy.utils.defer import deferred_from_coro

    try:
        deferred_from_coro(crawler.engine.close_spider_async(reason="lease_lost"))
    except Exception:  # already closing
        log.debug("close on lease loss", exc_info=True)


_handler_class: type | None = None


def __getattr__(name: str) -> Any:
    """`nianbao.workers.LeasedDownloadHandler` (what DOWNLOAD_HANDLERS names), built on first use."""
    global _handler_class
    if name == "LeasedDownloadHandler":
        if _handler_class is None:
            _handler_class = _leased_handler_class()
        return _handler_class
    raise AttributeError(name)


@dataclass
class WorkerConfig:
    data_dir: Path
    name: str
    lease_ttl: float = 120.0
    delay: float | None = None
    contact: str | None = None


_config: WorkerConfig | None = None  # set by run_worker; a work horse (a fork) inherits it


def worker_name(data_dir: Path) -> str:
    """A stable name for the worker of a data folder on this machine: host name and a digest of the folder."""
    digest = hashlib.sha256(str(Path(data_dir).resolve()).encode()).hexdigest()[:8]
    return f"{socket.gethostname()}-{digest}"


def _die_with_parent() -> None:
    """Ask the kernel to SIGKILL this process when its parent (the RQ worker) dies, so a killed worker leaves no
    orphaned crawl."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the lease's local deadline still stops an orphan's requests
        log.warning("PR_SET_PDEATHSIG unavailable: an orphaned crawl stops when its lease lapses")


def crawl_site_job(entry: dict[str, Any]) -> dict[str, Any]:
    """The RQ job: crawl one site (its registry entry) into the worker's folder under the host lease."""
    from rq import Queue, get_current_job

    from archive.jobstate import unfinished_run
    from crawler.sites import parse_site
    from nianbao.runner import project_settings, run_crawl

    global _current_lease
    config = _config
    if config is None:
        raise RuntimeError("crawl_site_job runs in a `nianbao worker`")
    parent = os.getppid()
    _die_with_parent()
    if os.getppid() != parent:  # the worker died before the request was in place
        os._exit(1)
    site = parse_site(entry, f"job site {entry.get('key')}")
    job = get_current_job()
    connection = job.connection if job is not None else connect(os.environ["NIANBAO_REDIS"])
    lease = Lease(connection, site_hosts(site), config.name, config.lease_ttl)
    if not lease.acquire(wait=1.5 * config.lease_ttl):
        Queue(QUEUE, connection=connection).enqueue(crawl_site_job, entry, job_timeout=job.timeout if job else None,
                                                     retry=_retry(), description=f"crawl {site.key}")
        log.warning("%s: host %s leased by a live worker: site put back on the queue", site.key, lease.hosts)
        return {"site": site.key, "deferred": "host busy"}
    lease.start_heartbeat()
    _current_lease = lease
    try:
        state = unfinished_run(config.data_dir)
        resume = state is not None and list(state.get("sites") or []) == [site.key]
        base = project_settings()
        overrides: dict[str, Any] = {
            "DOWNLOAD_HANDLERS": {**base.getdict("DOWNLOAD_HANDLERS"),
                                  "http": "nianbao.workers.LeasedDownloadHandler",
                                  "https": "nianbao.workers.LeasedDownloadHandler"},
            "DOWNLOAD_TIMEOUT": min(base.getfloat("DOWNLOAD_TIMEOUT"), TIMEOUT_FRACTION * config.lease_ttl),
            "WARC_PREFIX": f"nianbao-{config.name}",
        }
        if config.delay is not None:
            overrides["NIANBAO_DOWNLOAD_DELAY"] = config.delay
        if config.contact:
            overrides["NIANBAO_CONTACT"] = config.contact
        result = run_crawl([site], config.data_dir, overrides, resume=resume, wait=False)
    finally:
        _current_lease = None
        lease.release()
    summary = result.summaries[0]
    out = {"site": site.key, "run_id": result.run_id, "resumed": resume, "worker": config.name,
           "pages": summary.get("pages"), "reports": summary.get("reports"),
           "finish_reason": summary.get("finish_reason"), "shortfalls": result.shortfalls()}
    if lease.lost or summary.get("finish_reason") != "finished":
        # RQ records the failure and, retries left, queues the site again: the next run resumes this one.
        raise RuntimeError(f"{site.key}: crawl stopped ({summary.get('finish_reason')}"
                           f"{', lease lost' if lease.lost else ''}); run {result.run_id} left to resume")
    connection.set(HOME_PREFIX + site.key, config.name, ex=HOME_TTL)  # its next crawl goes to this folder
    return out


def _retry(max_retries: int = 3):
    """RQ's retry policy: with none (0), a job whose worker died or whose crawl stopped is only marked failed."""
    from rq import Retry

    return Retry(max=max_retries) if max_retries > 0 else None


def live_workers(connection: Redis) -> set[str]:
    """The names (host and folder, see worker_name) of the workers RQ counts alive (their heartbeat key exists)."""
    from rq import Worker

    return {w.name.rsplit("-", 1)[0] for w in Worker.all(connection=connection)}


def rehome_orphans(connection: Redis, keep: frozenset[str] = frozenset()) -> int:
    """Jobs waiting on the own queue of a worker that is not alive (it died, and was not restarted on its folder)
    go to the shared queue, its abandoned jobs first made queued again (RQ's registry cleanup, which only a worker
    of that queue would run); `keep`: workers counted alive anyway (one starting). Returns how many were moved."""
    from rq import Queue
    from rq.registry import StartedJobRegistry

    alive = live_workers(connection) | keep
    moved = 0
    shared = Queue(QUEUE, connection=connection)
    for queue in Queue.all(connection=connection):
        if not queue.name.startswith(HOME_QUEUE) or queue.name[len(HOME_QUEUE):] in alive:
            continue
        StartedJobRegistry(queue=queue).cleanup()
        for job in queue.get_jobs():
            queue.remove(job)
            shared.enqueue_job(job)
            moved += 1
    return moved


def enqueue_sites(connection: Redis, sites: list[SiteConfig], timeout: int = 6 * 3600,
                  retries: int = 3) -> tuple[list[str], list[str]]:
    """One job per site (its entry as data); a site whose job is still queued or running is not queued again.
    Host affinity: a site goes to the own queue of the worker that crawled it last when that worker is alive (its
    folder holds the site's history: conditional requests, reports no longer listed), else to the shared queue.
    Returns (queued keys, skipped keys)."""
    from rq import Queue
    from rq.exceptions import NoSuchJobError
    from rq.job import Job, JobStatus

    rehome_orphans(connection)
    alive = live_workers(connection)
    queued, skipped = [], []
    for site in sites:
        job_id = JOB_PREFIX + hashlib.sha256(site.key.encode()).hexdigest()[:16]
        try:
            status = Job.fetch(job_id, connection=connection).get_status()
        except NoSuchJobError:
            status = None
        if status in (JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED):
            skipped.append(site.key)
            continue
        home = (connection.get(HOME_PREFIX + site.key) or b"").decode()
        queue = Queue(HOME_QUEUE + home if home in alive else QUEUE, connection=connection)
        queue.enqueue(crawl_site_job, site.as_dict(), job_id=job_id, job_timeout=timeout, retry=_retry(retries),
                      description=f"crawl {site.key}", result_ttl=7 * 86400, failure_ttl=30 * 86400)
        queued.append(site.key)
    return queued, skipped


def _worker_class():
    from rq import Worker

    class NianbaoWorker(Worker):
        """RQ's forking worker with a configurable grace after a missed heartbeat (RQ's is 60 s): how long after
        a worker dies its job counts as abandoned."""

        heartbeat_grace = 60
        jobs_run = 0
        command_poll_seconds = 1.0

        def subscribe(self) -> None:
            """RQ's own, but the thread that listens for commands (stop, kill the job) waits at most 1 s at a
            time, not 60: when the worker stops, RQ unsubscribes, then stops the thread, and redis-py's stop()
            joins it; a thread that had read the unsubscribe reply first was waiting 60 s to be subscribed
            again, and a `--burst` worker whose queue was done took a minute more to exit."""
            self.log.info("Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name)
            self.pubsub = self.connection.pubsub()
            self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
            self.pubsub_thread = self.pubsub.run_in_thread(
                sleep_time=self.command_poll_seconds, daemon=True,
                exception_handler=self._pubsub_exception_handler)

        def execute_job(self, job, queue) -> None:
            type(self).jobs_run += 1
            super().execute_job(job, queue)

        def get_heartbeat_ttl(self, job, working_time: float = 0.0) -> int:
            if job.timeout and job.timeout > 0:
                return int(min(job.timeout - working_time, self.job_monitoring_interval)) + self.heartbeat_grace
            return self.job_monitoring_interval + self.heartbeat_grace

    return NianbaoWorker


def run_worker(redis_url: str, data_dir: str | Path, *, burst: bool = False, lease_ttl: float = 120.0,
               heartbeat: int = 30, grace: int = 60, maintenance: int = 60, delay: float | None = None,
               contact: str | None = None, name: str | None = None) -> int:
    """Run jobs of the queue until stopped (or, with `burst`, until the queue is empty); holds the data folder's
    writer lock meanwhile. Returns how many jobs it ran."""
    from archive.lock import writer_lock

    global _config
    data = Path(data_dir).resolve()
    connection = connect(redis_url)
    os.environ["NIANBAO_REDIS"] = redis_url
    with writer_lock(data):
        _config = WorkerConfig(data, name or worker_name(data), lease_ttl, delay, contact)
        cls = _worker_class()
        cls.heartbeat_grace = grace
        from rq import Queue

        # Its own queue first (the sites whose history its folder holds), then the shared one.
        queues = [Queue(HOME_QUEUE + _config.name, connection=connection), Queue(QUEUE, connection=connection)]
        rehome_orphans(connection, keep=frozenset({_config.name}))
        worker = cls(queues, connection=connection,
                     name=f"{_config.name}-{os.getpid()}", job_monitoring_interval=heartbeat,
                     maintenance_interval=maintenance)
        worker.work(burst=burst, logging_level="INFO", with_scheduler=False)
        return cls.jobs_run
