"""Job state of crawl runs: a fresh Scrapy JOBDIR per run and site, reused only by `nianbao crawl --resume`.

Layout: `<data>/jobs/<run id>/<site>/` is the site's JOBDIR; `<data>/jobs/unfinished.json` names the run that
has not finished (its id, sites, start time, and whether its last process closed cleanly). A run that ends with
every spider `finished` removes both.

Scrapy writes the scheduler's queue state (`requests.queue/active.json`) only when it closes cleanly, and never
removes it; after a SIGKILL or power loss the disk queue is unusable and `requests.seen` holds an arbitrary part
of what was scheduled, so reusing them would silently drop the pending requests. The marker says whether the
last process reached `end_run`; if not, the JOBDIR is cleared on resume and the
run starts again from its start URLs, with `archive.conditional.ReplayCompleted` answering every request the run
had already completed from the archive (nothing is fetched twice, the link graph is rebuilt).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MARKER = "unfinished.json"
UNFINISHED_LOG = "unfinished.log"  # per JOBDIR: requests left unfinished, fetched again on resume (crawler/refetch.py)


class NothingToResume(RuntimeError):
    """`--resume` was asked for but the data folder has no unfinished run."""


@dataclass
class RunJob:
    """One run's job state. `settings(site)` gives the Scrapy settings to layer on that site's crawler."""

    data_dir: Path
    run_id: str
    resumed: bool
    sites: list[str] = field(default_factory=list)

    @property
    def folder(self) -> Path:
        return jobs_dir(self.data_dir) / self.run_id

    def jobdir(self, site: str) -> Path:
        return self.folder / site

    def settings(self, site: str) -> dict[str, Any]:
        return {"JOBDIR": str(self.jobdir(site)), "NIANBAO_RESUME": self.resumed, "NIANBAO_CRAWL_ID": self.run_id}


def jobs_dir(data_dir: Path | str) -> Path:
    return Path(data_dir) / "jobs"


def unfinished_run(data_dir: Path | str) -> dict[str, Any] | None:
    """The unfinished run's record (`run_id`, `sites`, `started`), or None."""
    marker = jobs_dir(data_dir) / MARKER
    if not marker.exists():
        return None
    try:
        return json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        log.warning("unreadable %s: ignoring it", marker)
        return None


def _write_marker(job: RunJob, stopped_cleanly: bool, started: str | None = None) -> None:
    folder = jobs_dir(job.data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / (MARKER + ".tmp")
    tmp.write_text(json.dumps({
        "run_id": job.run_id, "sites": job.sites,
        "started": started or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "stopped_cleanly": stopped_cleanly,
    }, ensure_ascii=False), encoding="utf-8")
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    tmp.replace(folder / MARKER)


def prepare_resume(jobdir: Path, stopped_cleanly: bool) -> bool:
    """Make a JOBDIR safe to resume; return True when its queue is kept, False when it was cleared."""
    if not jobdir.exists() or (stopped_cleanly and (jobdir / "requests.queue" / "active.json").exists()):
        return True
    log.warning("%s was not closed cleanly: its queue is lost, the run restarts from its start URLs and "
                "replays what it completed from the archive", jobdir)
    (jobdir / "requests.seen").unlink(missing_ok=True)
    shutil.rmtree(jobdir / "requests.queue", ignore_errors=True)
    (jobdir / "spider.state").unlink(missing_ok=True)
    (jobdir / UNFINISHED_LOG).unlink(missing_ok=True)  # the restart rediscovers those requests
    return False


def begin_run(data_dir: Path | str, new_run_id: str, sites: list[str], resume: bool = False) -> RunJob:
    """Start a run: with `resume`, continue the unfinished one (raises NothingToResume when there is none);
    otherwise a fresh run with empty job state (an abandoned unfinished run's job state is removed)."""
    data_dir = Path(data_dir)
    previous = unfinished_run(data_dir)
    if resume:
        if previous is None:
            raise NothingToResume(f"no unfinished run to resume in {data_dir}")
        job = RunJob(data_dir, previous["run_id"], True, list(previous.get("sites") or sites))
        for site in job.sites:
            prepare_resume(job.jobdir(site), bool(previous.get("stopped_cleanly")))
        _write_marker(job, stopped_cleanly=False, started=previous.get("started"))
        return job
    if previous is not None and previous.get("run_id") != new_run_id:
        log.warning("run %s did not finish and is abandoned (use --resume to continue a run)", previous["run_id"])
        shutil.rmtree(jobs_dir(data_dir) / previous["run_id"], ignore_errors=True)
    job = RunJob(data_dir, new_run_id, False, list(sites))
    if job.folder.exists():  # never reuse job state outside --resume
        shutil.rmtree(job.folder)
    _write_marker(job, stopped_cleanly=False)
    return job


def end_run(job: RunJob, finish_reasons: list[str | None], restart: list[str] | None = None) -> bool:
    """Forget the run's job state when every spider finished; keep it (for --resume) otherwise. The sites in
    `restart` (stopped on an error that may have lost work after its request completed, such as running out of
    descriptors: crawler/resources.py) have their queue state cleared now, as after an unclean stop: their resume
    starts again from the start URLs and replays what was archived, so every item is processed again."""
    for site in restart or []:
        prepare_resume(job.jobdir(site), stopped_cleanly=False)
    if finish_reasons and all(reason == "finished" for reason in finish_reasons):
        shutil.rmtree(job.folder, ignore_errors=True)
        (jobs_dir(job.data_dir) / MARKER).unlink(missing_ok=True)
        return True
    # Scrapy closed every JOBDIR (queue state written): a resume may keep the queues.
    _write_marker(job, stopped_cleanly=True, started=(unfinished_run(job.data_dir) or {}).get("started"))
    log.warning("run %s did not finish (%s): `nianbao crawl --resume` continues it", job.run_id,
                ", ".join(str(r) for r in finish_reasons))
    return False
