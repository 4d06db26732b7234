"""The one way a `nianbao` command is registered: `@command(...)` on the function that runs it, with the
functions that add its arguments. nianbao/cli.py imports the modules that hold commands and builds the parser
from this registry; what a command reads (`reads`) is checked once, before it runs."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATA = "data"
Arguments = Callable[[argparse.ArgumentParser], None]
Run = Callable[[argparse.Namespace], int]


class UsageError(Exception):
    """A mistake in what the user asked for: printed as `error: …`, exit status 2."""


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    run: Run
    arguments: tuple[Arguments, ...] = ()
    description: str | None = None
    reads: str | None = None  # "db": the data folder's nianbao.db; "archive": warc/ or nianbao.db


REGISTRY: dict[str, Command] = {}


def command(name: str, help: str, *arguments: Arguments, description: str | None = None,
            reads: str | None = None) -> Callable[[Run], Run]:
    def register(run: Run) -> Run:
        if name in REGISTRY:
            raise RuntimeError(f"command {name!r} registered twice")
        REGISTRY[name] = Command(name, help, run, arguments, description, reads)
        return run

    return register


# Arguments several commands share.

def data_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", default=DEFAULT_DATA, type=Path,
                        help="data folder: WARC files, the SQLite database, logs (default: ./data)")


def wait_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--wait", action="store_true",
                        help="when another crawl, reindex or reevaluate is writing to the data folder, wait for it "
                             "to finish (default: refuse with exit status 2)")


def notify_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--notify", action="append", metavar="URL", default=[],
                        help="send one digest of the run's changes to this Apprise URL (repeatable): json://host/path, "
                             "mailto://user:pass@host, wecombot://KEY, dingtalk://TOKEN, feishu://TOKEN")
    parser.add_argument("--link-base", default=None, metavar="URL",
                        help="base URL of `nianbao serve` pages for links in alerts (e.g. http://127.0.0.1:8001/-/nianbao)")


def json_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON")
