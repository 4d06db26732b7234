"""Workers on Redis (issue 15 item 3), against a real redis-server on a free loopback port and a demo portal of the
job's own at edition 2 (served by a child process with kernel arrival stamps, tests/portal_process.py, as the
shared runs' portal is: its own, so that the job runs beside the shared runs instead of after them).

One background job (tests/background.py): the four demo sites enqueued; two workers (`nianbao worker --burst`,
each its own data folder); the first SIGKILLed after the first requests of its site; the second crawls the rest
and exits; a third worker, started on the killed worker's folder (the machine back up), finds the killed site's
job abandoned (RQ's heartbeat expired), re-queued, waits for the dead holder's host lease to expire and resumes
the half-done run; then `nianbao merge` of both folders, twice. Short heartbeats (1 s, grace 2 s) and a 10 s lease
make the recovery take seconds; the download timeout (0.3 of the lease: 3 s) stays above the portal's slow page
(1 s).

The tests read what the job left: the merged archive against the manifest and against the single-machine shared
runs (edition 2, same content on other ports: compared by site, agency, year and content digest), the portal's
request log (kernel arrival stamps) per host, the run ids of the resumed folder, the second merge's effect. A
small test of the lease itself uses its own redis-server.
"""

from __future__ import annotations

import csv
import hashlib
import json
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import background
import pytest
from conftest import DEMO_SLOW_SECONDS, warm_up, write_sites
from portal_process import PortalProcess

ROOT = Path(__file__).resolve().parent.parent
REDIS = shutil.which("redis-server")
NO_REDIS = "redis-server is not installed (scripts/install-redis.sh installs Debian's; it needs root)"
DELAY = "0.1"
FAST = ["--lease-ttl", "10", "--heartbeat", "1", "--grace", "2", "--maintenance", "600"]


class RedisServer:
    """redis-server on a free loopback port, without persistence, for one module or job."""

    def __init__(self, folder: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        folder.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen([REDIS, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", str(folder)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"redis://127.0.0.1:{self.port}/0"
        from redis import Redis

        self.client = Redis(port=self.port)
        for _ in range(100):
            try:
                if self.client.ping():
                    return
            except Exception:  # not listening yet
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("redis-server did not answer")

    def stop(self) -> None:
        self.client.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _start_worker(redis: str, data: Path, log: Path) -> subprocess.Popen:
    with open(log, "w") as out:
        return subprocess.Popen([sys.executable, "-m", "nianbao", "worker", "--redis", redis, "--data", str(data),
                                 "--burst", "--delay", DELAY, *FAST], cwd=ROOT, env=background.SESSION_ENV,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def _wait(proc: subprocess.Popen, log: Path, timeout: float = 240) -> int:
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise AssertionError(f"worker did not finish: {log.read_text()[-3000:]}") from None


def _snapshot(data: Path) -> dict:
    """Row counts of every table, the digest of the database's content (its SQL dump) and of every WARC file."""
    con = sqlite3.connect(data / "nianbao.db")
    try:
        tables = [row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        counts = {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
        dump = hashlib.sha256("\n".join(con.iterdump()).encode()).hexdigest()
        versions = con.execute("SELECT id, page_url, digest, last_seen FROM report_versions ORDER BY id").fetchall()
        changes = con.execute("SELECT id, page_url, kind, version_id, previous_version_id FROM changes "
                              "ORDER BY id").fetchall()
    finally:
        con.close()
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((data / "warc").iterdir())}
    return {"counts": counts, "dump": dump, "files": files, "versions": versions, "changes": changes}


def _run(*args: str) -> subprocess.CompletedProcess:
    res = background.nianbao(*args, timeout=300)
    assert res.returncode == 0, (args, res.stdout[-2000:], res.stderr[-3000:])
    return res


@background.job("test_workers: two workers on Redis, one SIGKILLed, a third resumes; merge twice")
def workers_run(tmp: Path) -> dict:
    if REDIS is None:
        return {"skip": NO_REDIS}
    from nianbao.workers import HOME_PREFIX, LEASE_PREFIX, worker_name

    redis = RedisServer(tmp / "redis")
    portal = PortalProcess(DEMO_SLOW_SECONDS, background.SESSION_ENV, tmp / "portal.log")
    procs: list[subprocess.Popen] = []
    started = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        portal.set_edition(2)
        sites = write_sites(portal, tmp / "sites.yaml")
        w1, w2, merged = tmp / "w1", tmp / "w2", tmp / "merged"
        name1 = worker_name(w1)
        out: dict = {"manifest": portal.manifest()}
        warm_up(out["manifest"])  # the portal renders its PDF and DOCX files before the crawl, not during it
        logged = len(portal.log_entries())
        out["enqueue"] = _run("enqueue", "--sites", str(sites), "--redis", redis.url).stdout
        procs = [_start_worker(redis.url, w1, tmp / "w1.log"), _start_worker(redis.url, w2, tmp / "w2.log")]
        # The first worker's site: the host its lease names; killed after its first requests there.
        killed_host, deadline = None, time.monotonic() + 120
        while time.monotonic() < deadline:
            for key in redis.client.scan_iter(LEASE_PREFIX + "*"):
                if (redis.client.get(key) or b"").decode().startswith(name1 + ":"):
                    killed_host = key.decode()[len(LEASE_PREFIX):]
            if killed_host:
                site = _site_of_port(portal, int(killed_host.rsplit(":", 1)[1]))
                if sum(1 for e in portal.log_entries()[logged:] if e["site"] == site) >= 3:
                    break
            time.sleep(0.05)
        assert killed_host, f"the first worker took no site: {(tmp / 'w1.log').read_text()[-3000:]}"
        procs[0].send_signal(signal.SIGKILL)
        procs[0].wait()
        out["killed_at"] = time.time()
        out["killed_site"] = _site_of_port(portal, int(killed_host.rsplit(":", 1)[1]))
        out["unfinished"] = json.loads((w1 / "jobs" / "unfinished.json").read_text())
        out["w2_exit"] = _wait(procs[1], tmp / "w2.log")
        # RQ counts the job abandoned once its registry entry (heartbeat 1 s + grace 2 s) has expired.
        while any(score > time.time() for _, score in redis.client.zrange("rq:wip:nianbao", 0, -1,
                                                                         withscores=True)):
            time.sleep(0.2)
        procs.append(_start_worker(redis.url, w1, tmp / "w3.log"))
        out["w3_exit"] = _wait(procs[2], tmp / "w3.log")
        out["w3_log"] = (tmp / "w3.log").read_text()[-4000:]
        out["log"] = portal.log_entries()[logged:]
        out["leases_left"] = [k.decode() for k in redis.client.scan_iter(LEASE_PREFIX + "*")]
        out["homes"] = {key: (redis.client.get(HOME_PREFIX + key) or b"").decode() for key in portal.base_urls}
        out["names"] = {"w1": name1, "w2": worker_name(w2)}
        out["queued_left"] = redis.client.llen("rq:queue:nianbao")
        out["runs"] = {w.name: sqlite3.connect(w / "nianbao.db").execute(
            "SELECT id, sites FROM runs ORDER BY id").fetchall() for w in (w1, w2)}
        out["merge1"] = _run("merge", str(w1), str(w2), "--into", str(merged)).stdout
        out["after1"] = _snapshot(merged)
        out["merge2"] = _run("merge", str(w1), str(w2), "--into", str(merged)).stdout
        out["after2"] = _snapshot(merged)
        # The next periodic run of the killed site: recrawled by the worker of its folder (its history: 304s),
        # merged again; what the archive held keeps its ids.
        _run("enqueue", out["killed_site"], "--sites", str(sites), "--redis", redis.url)
        procs.append(_start_worker(redis.url, w1, tmp / "w4.log"))
        out["w4_exit"] = _wait(procs[3], tmp / "w4.log")
        out["merge3"] = _run("merge", str(w1), str(w2), "--into", str(merged)).stdout
        out["after3"] = _snapshot(merged)
        out["changes"] = json.loads(_run("changes", "--json", "--data", str(merged)).stdout)
        _run("export", "--format", "csv", "--data", str(merged), "-o", str(tmp / "export.csv"))
        with open(tmp / "export.csv", encoding="utf-8-sig") as f:
            out["export"] = list(csv.DictReader(f))
        out["base_urls"] = dict(portal.base_urls)
        out["merged"] = merged
        ended = resource.getrusage(resource.RUSAGE_CHILDREN)
        # CPU of the job's commands (workers, merges, changes, export), for whoever tunes the suite's time.
        out["cpu_seconds"] = round(ended.ru_utime + ended.ru_stime - started.ru_utime - started.ru_stime, 1)
        (tmp / "cpu.txt").write_text(f"{out['cpu_seconds']} s CPU in the job's commands\n")
        return out
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        redis.stop()
        portal.stop()


def _site_of_port(portal, port: int) -> str | None:
    return next((key for key, url in portal.base_urls.items() if urlsplit(url).port == port), None)


@pytest.fixture(scope="module")
def run() -> dict:
    out = workers_run.result()
    if "skip" in out:
        pytest.skip(out["skip"])
    return out


def test_the_killed_site_is_resumed_by_the_third_worker(run: dict) -> None:
    assert run["w2_exit"] == 0 and run["w3_exit"] == 0, run["w3_log"]
    assert run["unfinished"]["sites"] == [run["killed_site"]]
    # The run the killed worker left is continued under its own id (--resume), not started again.
    assert [run["unfinished"]["run_id"], json.dumps([run["killed_site"]])] in [list(r) for r in run["runs"]["w1"]]
    crawled = {w: {json.loads(s)[0] for _, s in rows} for w, rows in run["runs"].items()}
    assert run["killed_site"] in crawled["w1"] and run["killed_site"] not in crawled["w2"]
    assert not crawled["w1"] & crawled["w2"] and crawled["w1"] | crawled["w2"] == set(run["manifest"]["sites"])
    assert run["leases_left"] == [] and run["queued_left"] == 0
    # Each site's next crawl goes back to the folder that holds its history (host affinity).
    assert run["homes"] == {key: run["names"]["w1" if key in crawled["w1"] else "w2"] for key in run["homes"]}
    # Resumed, not recrawled: what the killed worker had completed is answered from its archive. At most the
    # requests in flight at the kill are sent again.
    again = Counter(e["path"] for e in run["log"] if e["site"] == run["killed_site"])
    assert len([p for p, n in again.items() if n > 1]) <= 2, again.most_common(5)


def test_no_host_saw_two_requests_in_flight(run: dict) -> None:
    by_site: dict[str, list] = {}
    for entry in run["log"]:
        by_site.setdefault(entry["site"], []).append(entry)
    assert set(by_site) == set(run["manifest"]["sites"])
    for site, entries in by_site.items():
        entries.sort(key=lambda e: e["start_mono"])
        for before, after in zip(entries, entries[1:], strict=False):
            assert after["start_mono"] >= before["end_mono"] - 0.001, \
                f"{site}: {after['path']} arrived while {before['path']} was in flight"


def test_every_manifest_report_is_in_the_merged_archive_exactly_once(run: dict) -> None:
    con = sqlite3.connect(run["merged"] / "nianbao.db")
    try:
        for report in run["manifest"]["reports"]:
            rows = con.execute(
                "SELECT r.id, r.agency, r.year FROM pages p JOIN reports r ON r.id = p.report_id WHERE p.url = ?",
                [report["url"]]).fetchall()
            assert len(rows) == 1, f"{report['url']} {report['title']}: {rows}"
            assert rows[0][1:] == (report["agency"], report["year"]), report["title"]
            count = con.execute("SELECT count(*) FROM reports WHERE site = ? AND agency = ? AND year = ?",
                                [report["site"], report["agency"], report["year"]]).fetchone()[0]
            assert count == 1
            # One crawl of edition 2: each report page is new once, with one version per distinct content.
            kinds = [k for (k,) in con.execute("SELECT kind FROM changes WHERE page_url = ?", [report["url"]])]
            assert kinds == ["new"], (report["url"], kinds)
        twice = con.execute("SELECT page_url, content_hash, count(*) FROM report_versions GROUP BY 1, 2 "
                            "HAVING count(*) > 1").fetchall()
        assert twice == []
        dup = con.execute("SELECT id, count(*) FROM captures GROUP BY id HAVING count(*) > 1").fetchall()
        assert dup == []
    finally:
        con.close()


def test_the_merged_archive_holds_what_one_machine_found(run: dict, demo_archive) -> None:
    """The current version of every report still listed after the shared runs' edition 2 crawl (one machine) has
    the same content digest in the merged archive, and the merged archive has no other report."""
    query = ("SELECT r.site, r.agency, r.year, v.digest FROM reports r JOIN report_versions v "
             "ON v.id = r.current_version_id WHERE coalesce(r.status, 'active') != 'removed'")
    single = sqlite3.connect(f"file:{demo_archive.db(2)}?mode=ro", uri=True)
    merged = sqlite3.connect(run["merged"] / "nianbao.db")
    try:
        assert set(merged.execute(query)) == set(single.execute(query))
    finally:
        single.close()
        merged.close()


def test_a_second_merge_adds_nothing(run: dict) -> None:
    assert "0 WARC file(s) copied" in run["merge2"] and "0 capture(s)" in run["merge2"], run["merge2"]
    assert run["after2"] == run["after1"]
    assert run["after1"]["counts"]["runs"] == 4  # one per site; the resumed run is one run
    assert len(run["after1"]["files"]) >= 4


def test_changes_and_export_read_the_merged_archive(run: dict) -> None:
    manifest_urls = {r["url"] for r in run["manifest"]["reports"]}
    assert {c["url"] for c in run["changes"] if c["kind"] == "new"} >= manifest_urls
    assert len(run["export"]) == run["after1"]["counts"]["reports"]


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory) -> RedisServer:
    if REDIS is None:
        pytest.skip(NO_REDIS)
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


def test_a_lease_is_exclusive_and_stops_its_holder_before_it_expires(redis_server: RedisServer) -> None:
    from nianbao.workers import SAFE_FRACTION, Lease

    redis_server.client.flushdb()
    a = Lease(redis_server.client, ["127.0.0.1:1", "127.0.0.1:2"], "a", ttl=1.0)
    b = Lease(redis_server.client, ["127.0.0.1:2"], "b", ttl=1.0)
    assert a.acquire() and a.valid()
    assert not b.acquire(), "a host leased by one holder taken by another"
    assert a.renew()
    renewed = time.monotonic()
    # A holder that stops renewing (stalled, partitioned) stops sending by its own clock before Redis frees the
    # lease: no moment when both may send.
    while a.valid():
        time.sleep(0.01)
    assert time.monotonic() - renewed <= SAFE_FRACTION * 1.0 + 0.05
    assert not b.acquire(), "taken before the holder's ttl ran out"
    assert b.acquire(wait=2.0), "a dead holder's lease never expired"
    assert not a.renew() and a.lost and not a.valid()
    b.release()
    assert redis_server.client.keys("nianbao:lease:*") == []


def test_a_site_goes_back_to_the_worker_that_holds_its_history(redis_server: RedisServer) -> None:
    """Host affinity through RQ's own worker registry: a site crawled last by a live worker is queued on that
    worker's queue; once the worker is gone, what waits there moves to the shared queue."""
    from rq import Queue, Worker

    from crawler.sites import parse_site
    from nianbao.workers import HOME_PREFIX, HOME_QUEUE, QUEUE, enqueue_sites, rehome_orphans

    connection = redis_server.client
    connection.flushdb()
    known, new = (parse_site({"key": key, "name": key, "start_urls": [f"http://127.0.0.1:{port}/"]}, key)
                  for key, port in (("known", 9), ("new", 10)))
    home = "machine-a-0123abcd"
    connection.set(HOME_PREFIX + "known", home)
    own, shared = Queue(HOME_QUEUE + home, connection=connection), Queue(QUEUE, connection=connection)
    worker = Worker([own, shared], connection=connection, name=f"{home}-4242")
    worker.register_birth()
    assert enqueue_sites(connection, [known, new]) == (["known", "new"], [])
    assert [job.args[0]["key"] for job in own.get_jobs()] == ["known"]
    assert [job.args[0]["key"] for job in shared.get_jobs()] == ["new"]
    assert enqueue_sites(connection, [known, new]) == ([], ["known", "new"]), "a queued site queued twice"
    worker.register_death()
    assert rehome_orphans(connection) == 1
    assert own.count == 0 and sorted(job.args[0]["key"] for job in shared.get_jobs()) == ["known", "new"]


def test_a_recrawl_merged_again_keeps_what_the_archive_held(run: dict) -> None:
    """The killed site crawled again by its home worker (conditional requests: nothing changed) and merged: new
    captures, the same versions and changes under the same ids, the versions' last_seen moved on."""
    assert run["w4_exit"] == 0
    before, after = run["after2"], run["after3"]
    assert after["counts"]["captures"] > before["counts"]["captures"]
    assert after["counts"]["runs"] == before["counts"]["runs"] + 1
    assert after["changes"] == before["changes"]
    assert [v[:3] for v in after["versions"]] == [v[:3] for v in before["versions"]]
    site_base = next(url for key, url in run["base_urls"].items() if key == run["killed_site"])
    moved = [a for b, a in zip(before["versions"], after["versions"], strict=True) if a[1].startswith(site_base)
             and a[3] > b[3]]
    assert moved, "no version of the recrawled site was seen again"
    assert "0 page(s) re-evaluated" in run["merge3"], run["merge3"]


def test_a_stopping_worker_does_not_wait_a_minute_for_its_command_listener(redis_server: RedisServer) -> None:
    """The race RQ's teardown can lose (seen as a `--burst` worker exiting a minute after its last job): the thread
    listening for commands reads the reply to the worker's UNSUBSCRIBE before it is told to stop, and waits to be
    subscribed again. It waits at most `command_poll_seconds` (1 s; RQ's own is 60 s): stopped, it is gone well
    within 20 s."""
    import threading

    from rq import Queue

    from nianbao.workers import _worker_class

    redis_server.client.flushdb()
    worker = _worker_class()([Queue("race", connection=redis_server.client)], connection=redis_server.client,
                             name="race-1")
    worker.subscribe()
    listener = worker.pubsub_thread
    deadline = time.monotonic() + 30
    while not worker.pubsub.subscribed and time.monotonic() < deadline:  # the listener has read the SUBSCRIBE reply
        time.sleep(0.01)
    worker.pubsub.unsubscribe()
    while worker.pubsub.subscribed and time.monotonic() < deadline:  # ... and the UNSUBSCRIBE reply
        time.sleep(0.01)
    assert not worker.pubsub.subscribed, "the listener never read the UNSUBSCRIBE reply"
    stopping = threading.Thread(target=listener.stop, daemon=True)
    stopping.start()
    stopping.join(timeout=20)
    assert not stopping.is_alive() and not listener.is_alive(), "the command listener outlived its stop by 20 s"
