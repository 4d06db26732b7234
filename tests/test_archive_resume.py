"""A crawl killed with SIGKILL mid-run, then resumed: files valid, ids unique, nothing fetched twice, all indexed.

Run as a script, this file is one crawl process: `python test_archive_resume.py BASE DATA_DIR new|resume`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import scrapy

SITE = "graph"


class GraphSpider(scrapy.Spider):
    name = "graph"

    def __init__(self, base: str, **kwargs: object):
        super().__init__(**kwargs)
        self.base = base

    async def start(self):  # type: ignore[no-untyped-def]
        yield scrapy.Request(self.base + "/graph/0")

    def parse(self, response):  # type: ignore[no-untyped-def]
        if not isinstance(response, scrapy.http.TextResponse):
            return
        for href in response.css("a::attr(href)").getall():
            yield response.follow(href, callback=self.parse)


def crawl(base: str, data_dir: str, mode: str) -> None:
    from scrapy.crawler import CrawlerProcess

    from archive.jobstate import begin_run, end_run

    job = begin_run(data_dir, "run1" if mode == "new" else "unused", [SITE], resume=mode == "resume")
    process = CrawlerProcess({
        "EXTENSIONS": {"archive.capture.WarcCapture": 0},
        "DOWNLOADER_MIDDLEWARES": {"crawler.refetch.RecordUnfinished": 540,
                                   "archive.conditional.ReplayCompleted": 955,
                                   "archive.conditional.ConditionalRequests": 960},
        "SPIDER_MIDDLEWARES": {"crawler.refetch.RequeueUnfinished": 10},
        "NIANBAO_DATA_DIR": data_dir,
        "WARC_PREFIX": "resume",
        "ROBOTSTXT_OBEY": True,
        "CONCURRENT_REQUESTS": 2,
        "REMOTE_CONTROL_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "RETRY_ENABLED": False,
        "LOG_LEVEL": "INFO",
        **job.settings(SITE),
    })
    crawler = process.create_crawler(GraphSpider)
    process.crawl(crawler, base=base)
    process.start()
    end_run(job, [crawler.stats.get_value("finish_reason")])


if __name__ == "__main__":
    crawl(*sys.argv[1:4])
    sys.exit(0)


# ---------------------------------------------------------------------------------------------------------
# Tests

import json  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import sqlite3  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from origin_server import GRAPH_PAGES, OriginServer  # noqa: E402
from test_archive_tools import warcio_check  # noqa: E402

from archive import commands  # noqa: E402
from archive.jobstate import MARKER, NothingToResume, begin_run, end_run, unfinished_run  # noqa: E402
from archive.reader import iter_located  # noqa: E402
from archive.scan import file_rows, warc_files  # noqa: E402

ENV = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}


def _responses(db: Path) -> set[str]:
    if not db.exists():
        return set()
    con = sqlite3.connect(db, timeout=30)
    try:
        return {u for (u,) in con.execute("select url from captures where record_type in ('response', 'revisit')")}
    except sqlite3.OperationalError:  # table not created yet
        return set()
    finally:
        con.close()


def _paths(requests: list[bytes]) -> list[str]:
    return [r.split(b" ", 2)[1].decode() for r in requests]


FAILING = 2  # a page that answers 500 during the first run, 200 after (its subtree is half the graph)


def _statuses(db: Path, path: str) -> list[int]:
    if not db.exists():
        return []
    con = sqlite3.connect(db, timeout=30)
    try:
        return [s for (s,) in con.execute("select status from captures where record_type = 'response' "
                                          "and url like ? order by rowid", [f"%{path}"])]
    except sqlite3.OperationalError:
        return []
    finally:
        con.close()


def _stop_and_resume(tmp_path_factory: pytest.TempPathFactory, stop: signal.Signals):
    """Crawl the graph with page FAILING answering 500, stop the crawl with `stop` once that 500 is archived
    and 25 other pages are, let the page recover, resume."""
    data = tmp_path_factory.mktemp("resume") / "data"
    with OriginServer() as server:
        server.graph_delay = 0.05
        server.graph_failing = {FAILING}
        proc = subprocess.Popen([sys.executable, __file__, server.base, str(data), "new"], cwd=ROOT, env=ENV,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60  # a bound on waiting, not an assertion on speed
        db = data / "nianbao.db"
        while (len(_responses(db)) < 26 or 500 not in _statuses(db, f"/graph/{FAILING}")) \
                and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert proc.poll() is None, "the crawl ended before it could be stopped"
        proc.send_signal(stop)
        proc.wait(60)
        first_requests = list(server.requests)
        completed = {u for u in _responses(db) if not u.endswith(f"/graph/{FAILING}")}
        open_files = [p.name for p in (data / "warc").glob("*.open")]
        marker = json.loads((data / "jobs" / MARKER).read_text())
        server.graph_delay = 0.0
        server.graph_failing = set()
        result = subprocess.run([sys.executable, __file__, server.base, str(data), "resume"], cwd=ROOT, env=ENV,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr[-3000:]
        return {
            "data": data, "server": server, "completed": completed, "open_files": open_files, "marker": marker,
            "first": first_requests, "second": server.requests[len(first_requests):], "log": result.stderr,
        }


@pytest.fixture(scope="module")
def resumed(tmp_path_factory: pytest.TempPathFactory):
    return _stop_and_resume(tmp_path_factory, signal.SIGKILL)


@pytest.fixture(scope="module")
def resumed_after_clean_stop(tmp_path_factory: pytest.TempPathFactory):
    return _stop_and_resume(tmp_path_factory, signal.SIGINT)


def test_killed_run_left_an_open_file_and_an_unfinished_marker(resumed) -> None:
    assert resumed["open_files"], "SIGKILL mid-run leaves the WARC being written as .open"
    assert resumed["marker"]["run_id"] == "run1" and resumed["marker"]["stopped_cleanly"] is False
    assert "not closed cleanly" in resumed["log"]


def test_every_file_passes_warcio_check_and_ids_are_unique(resumed) -> None:
    warc = resumed["data"] / "warc"
    assert not list(warc.glob("*.open"))
    files = warc_files(warc)
    assert {name.removesuffix(".open") for name in resumed["open_files"]} <= {p.name for p in files}
    ids = []
    for path in files:
        assert warcio_check(path) == 0, path
        ids += [loc.record.rec_headers.get_header("WARC-Record-ID") for loc in iter_located(path)]
    assert len(ids) == len(set(ids))


def test_no_completed_url_is_fetched_again_and_the_run_completes(resumed) -> None:
    base = resumed["server"].base
    completed_paths = {u[len(base):] for u in resumed["completed"]}
    assert len(completed_paths) >= 25
    refetched = completed_paths & set(_paths(resumed["second"]))
    assert not refetched
    every_page = {f"/graph/{n}" for n in range(GRAPH_PAGES)} | {f"/graph/{n}.pdf" for n in range(GRAPH_PAGES)}
    captured = {u[len(base):] for u in _responses(resumed["data"] / "nianbao.db")}
    assert every_page | {"/robots.txt"} == captured
    assert unfinished_run(resumed["data"]) is None and not (resumed["data"] / "jobs" / "run1").exists()


@pytest.mark.parametrize("run", ["resumed", "resumed_after_clean_stop"])
def test_a_500_of_the_stopped_run_is_fetched_again(run: str, request: pytest.FixtureRequest) -> None:
    """Killed (queue lost, restart from the start) or stopped cleanly (queue and seen set kept), the page
    that answered 500 is fetched again, its 200 archived, and the subtree behind it crawled."""
    result = request.getfixturevalue(run)
    db = result["data"] / "nianbao.db"
    assert _statuses(db, f"/graph/{FAILING}") == [500, 200]
    assert _paths(result["second"]).count(f"/graph/{FAILING}") == 1
    every_page = {f"/graph/{n}" for n in range(GRAPH_PAGES)} | {f"/graph/{n}.pdf" for n in range(GRAPH_PAGES)}
    base = result["server"].base
    assert every_page <= {u[len(base):] for u in _responses(db)}
    assert not (set(_paths(result["second"])) & {u[len(base):] for u in result["completed"]})


def test_no_capture_is_missing_from_the_database(resumed, tmp_path: Path) -> None:
    data = resumed["data"]
    con = sqlite3.connect(data / "nianbao.db")
    con.row_factory = sqlite3.Row
    live = {r["id"]: dict(r) for r in con.execute("select * from captures")}
    con.close()
    from_files = {r["id"]: r for path in warc_files(data / "warc") for r in file_rows(path)}
    assert live == from_files
    assert {r["crawl_id"] for r in live.values()} == {"run1"}
    copy = tmp_path / "copy"
    shutil.copytree(data / "warc", copy / "warc")
    assert commands.reindex(copy) == 0
    con = sqlite3.connect(copy / "nianbao.db")
    con.row_factory = sqlite3.Row
    assert {r["id"]: dict(r) for r in con.execute("select * from captures")} == live


def test_job_state_rules(tmp_path: Path) -> None:
    with pytest.raises(NothingToResume):
        begin_run(tmp_path, "a", ["s"], resume=True)
    job = begin_run(tmp_path, "a", ["s"])
    job.jobdir("s").mkdir(parents=True)
    (job.jobdir("s") / "requests.seen").write_text("x\n")
    assert job.settings("s") == {"JOBDIR": str(tmp_path / "jobs/a/s"), "NIANBAO_RESUME": False,
                                 "NIANBAO_CRAWL_ID": "a"}
    assert not end_run(job, ["shutdown"])  # a clean stop keeps the queue for --resume
    (job.jobdir("s") / "requests.queue").mkdir()
    (job.jobdir("s") / "requests.queue" / "active.json").write_text("[]")
    again = begin_run(tmp_path, "ignored", ["s"], resume=True)
    assert again.run_id == "a" and again.resumed and (again.jobdir("s") / "requests.seen").exists()
    fresh = begin_run(tmp_path, "b", ["s"])  # a new run abandons "a" and starts with empty job state
    assert not (tmp_path / "jobs" / "a").exists() and unfinished_run(tmp_path)["run_id"] == "b"
    assert not fresh.jobdir("s").exists()
    assert end_run(fresh, ["finished"]) and unfinished_run(tmp_path) is None
