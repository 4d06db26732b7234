"""`nianbao watch`: crawl runs on a schedule until stopped.

Each run is a separate `nianbao crawl` process (a Twisted reactor cannot be restarted in one process), started
after the interval plus a random start jitter so that many installations do not hit a portal at the same minute.
"""

from __future__ import annotations

import argparse
import random
import re
import subprocess
import sys
import time

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
    for url in args.notify or []:
        cmd += ["--notify", url]
    if args.link_base:
        cmd += ["--link-base", args.link_base]
    if getattr(args, "wait", False):
        cmd += ["--wait"]
    return cmd


def cmd_watch(args: argparse.Namespace) -> int:
    runs = 0
    try:
        while args.max_runs is None or runs < args.max_runs:
            if runs or not args.now:
                wait = args.every + random.uniform(0, args.jitter)  # noqa: S311 - not security relevant
                print(f"next run in {wait / 60:.1f} min (Ctrl-C to stop)", flush=True)
                time.sleep(wait)
            runs += 1
            print(f"run {runs}: {' '.join(crawl_command(args)[1:])}", flush=True)
            code = subprocess.call(crawl_command(args))
            if code != 0:
                print(f"run {runs} exited with {code}; continuing", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        print("stopped")
    return 0


def add_command(sub, data_arg, notify_args, wait_arg=None) -> None:
    p = sub.add_parser("watch", help="run crawls periodically until stopped",
                       description="Run `nianbao crawl` every --every (plus up to --jitter of random delay) until "
                                   "stopped. Near the legal deadlines (late January, late March) use a shorter "
                                   "interval. For cron or systemd timers, schedule `nianbao crawl` instead.")
    p.add_argument("site", nargs="*", help="site keys (default: all)")
    p.add_argument("--sites", default=None, help="sites YAML file")
    data_arg(p)
    p.add_argument("--every", type=parse_duration, default=parse_duration("6h"), help="interval (default 6h)")
    p.add_argument("--jitter", type=parse_duration, default=parse_duration("10m"),
                   help="random extra delay before each run (default 10m)")
    p.add_argument("--now", action="store_true", help="start the first run immediately")
    p.add_argument("--max-runs", type=int, default=None, help="stop after this many runs")
    notify_args(p)
    if wait_arg is not None:  # forwarded to each crawl: it takes the data folder's writer lock, not watch
        wait_arg(p)
    p.set_defaults(func=cmd_watch)
