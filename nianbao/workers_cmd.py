"""`nianbao enqueue`, `nianbao worker`, `nianbao merge`: crawling on many machines (nianbao/workers.py,
pipelines/merge.py)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from nianbao.commands import UsageError, command, data_arg, wait_arg


def _redis_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--redis", required=True, metavar="URL", help="the Redis server of the queue (redis://host:port/0)")


def _enqueue_arguments(p: argparse.ArgumentParser) -> None:
    from nianbao.cli import _region_args, _sites_file_arg
    from nianbao.watch import parse_duration

    p.add_argument("site", nargs="*", help="site keys or division codes (default: the --region, else the sites of "
                                           "--sites FILE, else the curated sites)")
    _sites_file_arg(p)
    _region_args(p)
    _redis_arg(p)
    p.add_argument("--timeout", type=parse_duration, default=parse_duration("6h"),
                   help="longest crawl of one site before RQ stops it (default 6h)")
    p.add_argument("--retries", type=int, default=3,
                   help="times a site is queued again after its worker died or its crawl stopped (default 3; 0: "
                        "such a job is only marked failed, `rq info` lists it)")
    p.add_argument("--every", type=parse_duration, default=None,
                   help="queue the sites again every interval (e.g. 24h) until stopped; a site still queued or "
                        "being crawled is not queued twice")


@command("enqueue", "put one crawl job per site on a Redis queue for `nianbao worker`s", _enqueue_arguments,
         description="Queue one job per site (its registry entry as data) on the Redis queue `nianbao` (RQ). A site "
                     "whose job is still queued or running is skipped, so running it again (cron, --every) never "
                     "queues a site twice.")
def cmd_enqueue(args: argparse.Namespace) -> int:
    from crawler.registry import load_registry
    from nianbao.cli import _chosen_sites
    from nianbao.workers import connect, enqueue_sites

    if args.retries < 0:
        raise UsageError("--retries must be 0 or more")
    registry = load_registry(args.sites)
    sites = _chosen_sites(args, registry)
    try:
        connection = connect(args.redis)
    except ConnectionError as exc:
        raise UsageError(str(exc)) from None
    while True:
        queued, skipped = enqueue_sites(connection, sites, timeout=int(args.timeout), retries=args.retries)
        print(f"queued {len(queued)} site(s) on {args.redis}" +
              (f"; {len(skipped)} still queued or running: {', '.join(skipped[:10])}" if skipped else ""), flush=True)
        if args.every is None:
            return 0
        time.sleep(args.every)


def _worker_arguments(p: argparse.ArgumentParser) -> None:
    _redis_arg(p)
    data_arg(p)
    p.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    p.add_argument("--delay", type=float, default=None, help="override every site's delay between requests (s)")
    p.add_argument("--contact", default=None, help="contact address put in the User-Agent")
    p.add_argument("--lease-ttl", type=float, default=120.0,
                   help="seconds a host lease lasts without renewal (default 120): a dead worker's hosts are free "
                        "again after it; the crawl's download timeout is at most 0.3 of it")
    p.add_argument("--heartbeat", type=int, default=30,
                   help="seconds between the worker's heartbeats to RQ (default 30)")
    p.add_argument("--grace", type=int, default=60,
                   help="seconds after a missed heartbeat before a job counts as abandoned and is queued again "
                        "(default 60)")
    p.add_argument("--maintenance", type=int, default=60,
                   help="seconds between the worker's cleanups of RQ's registries (re-queueing abandoned jobs; "
                        "default 60)")


@command("worker", "run crawl jobs from a Redis queue, each site into this worker's own data folder",
         _worker_arguments,
         description="Run the jobs `nianbao enqueue` queued: each crawls one site into --data (WARC files and "
                     "database of this worker; `nianbao merge` folds the workers' folders into one archive). A host "
                     "is crawled by one worker at a time (a lease in Redis); a site left half-done in --data is "
                     "resumed. Holds the folder's writer lock while it runs.")
def cmd_worker(args: argparse.Namespace) -> int:
    from nianbao.workers import run_worker

    if args.lease_ttl < 3:
        raise UsageError("--lease-ttl must be at least 3 seconds")
    try:
        ran = run_worker(args.redis, args.data, burst=args.burst, lease_ttl=args.lease_ttl,
                         heartbeat=args.heartbeat, grace=args.grace, maintenance=args.maintenance,
                         delay=args.delay, contact=args.contact)
    except ConnectionError as exc:
        raise UsageError(str(exc)) from None
    print(f"worker {args.data}: {ran} job(s) run", file=sys.stderr)
    return 0


def _merge_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("workers", nargs="+", type=Path, metavar="WORKER_DIR", help="the workers' data folders")
    p.add_argument("--into", required=True, type=Path, metavar="DIR", help="the archive to fold them into")
    wait_arg(p)


@command("merge", "fold workers' data folders into one archive (idempotent)", _merge_arguments,
         description="Copy the workers' closed WARC files into --into (a file already there with the same digest is "
                     "skipped), upsert their sites, reports, pages, runs and alerts by natural keys, index the new "
                     "captures and rebuild the versions and changes of the pages that got new captures. Merging "
                     "again adds nothing.")
def cmd_merge(args: argparse.Namespace) -> int:
    from pipelines.merge import MergeError, merge

    try:
        counts = merge(args.workers, args.into, wait=args.wait)
    except MergeError as exc:
        raise UsageError(str(exc)) from None
    text = ("merged into {into}: {files} WARC file(s) copied ({skipped} already there), {captures} capture(s), "
            "{reports} report(s) new, {copied} page(s) with their versions copied, {pages} page(s) re-evaluated, "
            "{runs} run(s), {alerts} alert(s)")
    if counts["pending"]:
        text += "; {pending} page(s) left for the next merge (read from a WARC file a worker is still writing)"
    print(text.format(into=args.into, **counts))
    return 0

