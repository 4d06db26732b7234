"""`nianbao watch`: crawl runs on a schedule until stopped.

Each run is a separate `nianbao crawl` process (a Twisted reactor cannot be restarted in one process), started
after the interval plus a random start jitter so that many installations do not hit a portal at the same minute.
"""

from __future__ import annotations

import argparse
import random
import re
import signal
import subprocess
import sys
import time

from nianbao.commands import command, data_arg, notify_args, wait_arg

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """`90s`, `15m`, `6h`, `1d`, `1h30m` or plain seconds."""
    text = text.strip().lower()
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)
    parts = re.findall(r"(\d+(?:\.\d+)?)([smhd])", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (use e.g. 30m, 6h, 1d)")
    return sum(float(n) * _UNITS[u] for n, u in parts)


def crawl_command(args: argparse.Namespace) -> list[str]:
    cmd = [sys.executable, "-m", "nianbao", "crawl", *args.site, "--data", str(args.data)]
    if args.sites:
        cmd += ["--sites", args.sites]
    for option in ("region", "level"):
        if getattr(args, option, None):
            cmd += [f"--{option}", getattr(args, option)]
    for url in args.notify or []:
        cmd += ["--notify", url]
    if args.link_base:
        cmd += ["--link-base", args.link_base]
    if getattr(args, "wait", False):
        cmd += ["--wait"]
    return cmd


class _Stop(Exception):
    pass


def _watch_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("site", nargs="*", help="site keys (default: those `nianbao crawl` crawls when none is named)")
    p.add_argument("--sites", default=None, help="sites YAML file")
    p.add_argument("--region", default=None, metavar="PLACE", help="crawl every site of this place (see crawl)")
    p.add_argument("--level", default=None, choices=("province", "prefecture", "county"),
                   help="only the sites of this level")


def _schedule_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--every", type=parse_duration, default=parse_duration("6h"), help="interval (default 6h)")
    p.add_argument("--jitter", type=parse_duration, default=parse_duration("10m"),
                   help="random extra delay before each run (default 10m)")
    p.add_argument("--now", action="store_true", help="start the first run immediately")
    p.add_argument("--max-runs", type=int, default=None, help="stop after this many runs")


# --wait is forwarded to each crawl: it takes the data folder's writer lock, not watch.
@command("watch", "run crawls periodically until stopped", _watch_arguments, data_arg, _schedule_arguments,
         notify_args, wait_arg,
         description="Run `nianbao crawl` every --every (plus up to --jitter of random delay) until stopped. Near "
                     "the legal deadlines (late January, late March) use a shorter interval. For cron or systemd "
                     "timers, schedule `nianbao crawl` instead.")
def cmd_watch(args: argparse.Namespace) -> int:
    """Run crawls until stopped. SIGTERM or SIGINT is passed on to the running crawl, which stops cleanly (its
    job state kept for --resume); watch waits for it, so no crawl outlives watch."""
    child: subprocess.Popen | None = None
    stopping: list[int] = []

    def on_signal(signum: int, _frame) -> None:
        stopping.append(signum)
        if child is not None and child.poll() is None:
            child.send_signal(signum)
        else:
            raise _Stop

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    runs = 0
    try:
        while (args.max_runs is None or runs < args.max_runs) and not stopping:
            if runs or not args.now:
                wait = args.every + random.uniform(0, args.jitter)  # noqa: S311 - not security relevant
                print(f"next run in {wait / 60:.1f} min (Ctrl-C to stop)", flush=True)
                time.sleep(wait)
            runs += 1
            print(f"run {runs}: {' '.join(crawl_command(args)[1:])}", flush=True)
            child = subprocess.Popen(crawl_command(args))
            while True:
                try:
                    code = child.wait()
                    break
                except _Stop:  # a second signal while the child was already gone
                    continue
            child = None
            if stopping:
                print(f"stopped (signal {stopping[0]}); the interrupted run can be continued with crawl --resume",
                      flush=True)
                break
            if code != 0:
                print(f"run {runs} exited with {code}; continuing", file=sys.stderr, flush=True)
    except _Stop:
        print("stopped", flush=True)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


