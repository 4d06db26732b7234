"""The `nianbao` command line: one tool in front of the crawler, the archive and the demo portal."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from nianbao import __version__

DEFAULT_DATA = "data"


def _notify_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--notify", action="append", metavar="URL", default=[],
                        help="send one digest of the run's changes to this Apprise URL (repeatable): json://host/path, "
                             "mailto://user:pass@host, wecombot://KEY, dingtalk://TOKEN, feishu://TOKEN")
    parser.add_argument("--link-base", default=None, metavar="URL",
                        help="base URL of `nianbao serve` pages for links in alerts (e.g. http://127.0.0.1:8001/-/nianbao)")


def _data_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", default=DEFAULT_DATA, type=Path,
                        help="data folder: WARC files, the SQLite database, logs (default: ./data)")


class UsageError(Exception):
    """A mistake in what the user asked for: printed as `error: …`, exit status 2."""


def cmd_sites(args: argparse.Namespace) -> int:
    from crawler.sites import bundled_sites_path, load_sites

    sites = load_sites(args.sites)
    print(f"{len(sites)} site(s) in {args.sites or bundled_sites_path()} (valid)")
    for site in sites.values():
        extra = " ".join(f"{k}={v}" for k, v in (("code", site.site_code), ("cms", site.cms)) if v)
        print(f"  {site.key:12} {site.name}  {' '.join(site.start_urls)}  {extra}".rstrip())
    return 0


def crawl_overrides(args: argparse.Namespace) -> dict:
    overrides = {}
    if getattr(args, "delay", None) is not None:
        overrides["NIANBAO_DOWNLOAD_DELAY"] = args.delay
    if getattr(args, "contact", None):
        overrides["NIANBAO_CONTACT"] = args.contact
    return overrides


def _wait_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--wait", action="store_true",
                        help="when another crawl, reindex or reevaluate is writing to the data folder, wait for it "
                             "to finish (default: refuse with exit status 2)")


def cmd_crawl(args: argparse.Namespace) -> int:
    from archive.lock import writer_lock

    # The writer lock first: a refused crawl must not read or touch the folder's job state.
    with writer_lock(args.data, wait=args.wait):
        return _crawl(args)


def _crawl(args: argparse.Namespace) -> int:
    from crawler.sites import load_notify, load_sites
    from nianbao.runner import format_summary, run_crawl, run_sites_file

    registry = load_sites(args.sites)
    unknown = [key for key in args.site if key not in registry]
    if unknown:
        raise UsageError(f"unknown site(s) {', '.join(unknown)}; known: {', '.join(registry)}")
    sites = [registry[key] for key in args.site] if args.site else list(registry.values())
    if args.resume:
        from archive.jobstate import unfinished_run

        state = unfinished_run(args.data)
        if state is None:
            raise UsageError(f"no unfinished crawl to resume in {args.data}")
        remembered = run_sites_file(args.data, state["run_id"])
        if remembered.exists():  # the sites the run was started with, from whichever file they came
            registry = {**registry, **load_sites(remembered)}
        sites = [registry[key] for key in state["sites"] if key in registry]
        lost = [key for key in state["sites"] if key not in registry]
        if lost:
            raise UsageError(f"the run to resume crawled site(s) {', '.join(lost)} that no registry names now; "
                             "give their file with --sites")
    notify = list(args.notify or []) + load_notify(args.sites)
    result = run_crawl(sites, args.data, crawl_overrides(args), notify=notify, link_base=args.link_base,
                       resume=args.resume)
    print(format_summary(result))
    # 0 means complete; every shortfall (printed on the last line) makes it 1: worth a cron mail.
    return 1 if result.shortfalls() else 0


def cmd_portal(args: argparse.Namespace) -> int:
    from nianbao.portal import command

    return command.run(args)


def cmd_demo(args: argparse.Namespace) -> int:
    from nianbao.demo import DemoRefused, run_demo

    try:
        return run_demo(args.data, edition=args.edition, delay=args.delay, port=args.port, notify=args.notify,
                        link_base=args.link_base)
    except DemoRefused as exc:
        raise UsageError(str(exc)) from exc


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nianbao",
        description="Find, archive (WARC) and index Chinese government information-disclosure annual reports "
                    "(政府信息公开工作年度报告).",
    )
    parser.add_argument("--version", action="version", version=f"nianbao {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("demo", help="start the bundled demo portal, crawl it into the data folder, print a summary",
                       description="Run the main job end to end on the bundled demo portal (served on loopback): "
                                   "crawl every site, write WARC files and the SQLite database, print a summary.")
    _data_arg(p)
    p.add_argument("--edition", type=int, default=1, help="portal edition to crawl (2 = later edits; default 1)")
    p.add_argument("--delay", type=float, default=None, help="seconds between requests to one site (default 0.05)")
    p.add_argument("--port", type=int, default=8800,
                   help="first port of the demo portal (site i on port+i; default 8800, the same every run so "
                        "that runs into one data folder can be compared)")
    _notify_args(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("crawl", help="crawl portals of the sites registry",
                       description="Crawl the named sites (all when none is named): find the 年报 column, walk its "
                                   "lists, fetch every report page and attachment, archive every exchange as WARC.")
    p.add_argument("site", nargs="*", help="site keys (see `nianbao sites`)")
    p.add_argument("--sites", default=None, help="sites YAML file (default: the bundled registry)")
    _data_arg(p)
    p.add_argument("--delay", type=float, default=None, help="override every site's delay between requests (s)")
    p.add_argument("--contact", default=None, help="contact address put in the User-Agent")
    p.add_argument("--resume", action="store_true",
                   help="continue the last unfinished crawl of the data folder (same run id; completed pages are "
                        "not fetched again)")
    _wait_arg(p)
    _notify_args(p)
    p.set_defaults(func=cmd_crawl)

    p = sub.add_parser("sites", help="list and validate the sites registry",
                       description="List the portals of a sites file and validate it (exit 2 with a message "
                                   "when it is invalid).")
    p.add_argument("--sites", default=None, help="sites YAML file (default: the bundled registry)")
    p.set_defaults(func=cmd_sites)

    p = sub.add_parser("portal", help="serve the bundled demo portal on loopback",
                       description="Serve the bundled, deterministic replica of district portals (TRS, Hanweb, "
                                   "real Pingtan pages, a generic CMS) on loopback, one port per site.")
    try:
        from nianbao.portal import command as portal_command

        portal_command.add_arguments(p)
    except ImportError:  # pragma: no cover - the portal is part of the package
        pass
    p.set_defaults(func=cmd_portal)

    from nianbao.changes_cmd import add_commands as add_change_commands
    from nianbao.watch import add_command as add_watch_command
    from pipelines import extract_cli

    p = sub.add_parser("extract", help="extract one saved report document offline (HTML, PDF, DOCX, text dump)",
                       description="Extract text, metadata, the three standard tables as cells and the format's "
                                   "checks from one saved document.")
    extract_cli.add_arguments(p)
    p.set_defaults(func=extract_cli.run)
    add_change_commands(sub, _data_arg, _wait_arg)
    add_watch_command(sub, _data_arg, _notify_args, _wait_arg)
    from nianbao import serve

    p = sub.add_parser("serve", help="browse the archive in Datasette (read-only)",
                       description="Serve a read-only snapshot of the archive database with Datasette: tables, "
                                   "canned queries, report pages, changes and their Atom feed, archived captures.")
    _data_arg(p)
    serve.add_arguments(p)
    p.set_defaults(func=serve.run)
    _add_archive_commands(sub)
    return parser


def _add_archive_commands(sub) -> None:
    try:
        from archive import commands
    except ImportError:
        return
    p = sub.add_parser("cdx", help="write a CDXJ index of the WARC files",
                       description="Write a CDXJ index (one line per response/revisit record) of the archive.")
    _data_arg(p)
    p.add_argument("-o", "--output", type=Path, default=None, help="file to write (default: standard output)")
    p.set_defaults(func=lambda a: _with_output(a, lambda out: commands.cdx(a.data, out)))

    p = sub.add_parser("show", help="print an archived capture of a URL (headers and decoded body)",
                       description="Print a capture's status line, headers and decoded body, read from the WARC.")
    p.add_argument("url")
    p.add_argument("--at", default=None, help="the capture closest before this timestamp (YYYYMMDDhhmmss)")
    _data_arg(p)
    p.add_argument("-o", "--output", type=Path, default=None,
                   help="write the archived body (transfer and content codings undone) to this file")
    p.set_defaults(func=lambda a: commands.show(a.data, a.url, a.at, sys.stdout, a.output))

    p = sub.add_parser("reindex", help="rebuild the captures table from the WARC files alone")
    _data_arg(p)
    _wait_arg(p)
    p.set_defaults(func=cmd_reindex)

    p = sub.add_parser("wacz", help="package a site's captures as a WACZ (ReplayWeb.page, pywb)",
                       description="Package a site's captures (with the originals its revisits refer to) and a "
                                   "pages.jsonl of its report pages into one WACZ file.")
    p.add_argument("site", nargs="?", default=None, help="site key (default: every site)")
    _data_arg(p)
    p.add_argument("-o", "--output", type=Path, required=True, help="the .wacz file to write")
    p.set_defaults(func=lambda a: commands.wacz(a.data, a.site, a.output))

    if hasattr(commands, "check"):
        p = sub.add_parser("check", help="verify every WARC file (digests, structure)")
        _data_arg(p)
        p.set_defaults(func=lambda a: commands.check(a.data))


def cmd_reindex(args: argparse.Namespace) -> int:
    from archive import commands
    from archive.lock import writer_lock

    with writer_lock(args.data, wait=args.wait):
        return commands.reindex(args.data)


# What each command that reads an archive needs in its data folder: "db" = nianbao.db, "archive" = the folder with
# warc/ or nianbao.db. Checked once, before the command runs: a mistyped --data must not create an empty archive
# and report "no changes" or "checked 0 WARC files: ok".
READS_ARCHIVE = {
    "changes": "db", "history": "db", "diff": "db", "search": "db", "show": "db", "serve": "db", "wacz": "db",
    "reevaluate": "db", "cdx": "archive", "check": "archive", "reindex": "archive",
}


def require_archive(args: argparse.Namespace) -> None:
    """Raise UsageError (exit 2) when the command reads an archive that `--data` does not hold. Creates nothing."""
    need = READS_ARCHIVE.get(getattr(args, "command", None) or "")
    data = getattr(args, "data", None)
    if need is None or data is None:
        return
    data = Path(data)
    hint = f"point --data at an existing archive, or make one with `nianbao crawl --data {data}` first"
    if not data.is_dir():
        raise UsageError(f"no data folder {data}: {hint}")
    db = data / "nianbao.db"
    if need == "db" and not db.is_file():
        raise UsageError(f"{data} holds no archive database (nianbao.db): {hint}")
    if need == "archive" and not (db.is_file() or (data / "warc").is_dir()):
        raise UsageError(f"{data} holds no archive (neither warc/ nor nianbao.db): {hint}")


def _check_since(value: str) -> str:
    """`--since`: an ISO date or date-time; returned in the form stored timestamps compare with (UTC)."""
    from datetime import UTC, date, datetime

    text = value.strip()
    try:
        if len(text) <= 10:
            return date.fromisoformat(text).isoformat()
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--since {value!r} is not a date: use YYYY-MM-DD or YYYY-MM-DDThh:mm:ss") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat()


def _check_at(value: str) -> str:
    """`--at`: `YYYYMMDDhhmmss` or a prefix of it (`2024`, `202403`, …), or an ISO date-time."""
    import re
    from datetime import datetime

    text = value.strip()
    if re.fullmatch(r"\d+", text):
        if len(text) in (4, 6, 8, 10, 12, 14):
            try:
                datetime.strptime(text + "00000101000000"[len(text):], "%Y%m%d%H%M%S")
                return text
            except ValueError:
                pass
    else:
        try:
            datetime.fromisoformat(text)
            return text
        except ValueError:
            pass
    raise UsageError(f"--at {value!r} is not a timestamp: use YYYYMMDDhhmmss (or a prefix such as 2024 or "
                     "20240315) or an ISO date-time")


def check_args(args: argparse.Namespace) -> None:
    """The checks every command shares: the archive it reads exists, dates are dates."""
    require_archive(args)
    if getattr(args, "since", None):
        args.since = _check_since(args.since)
    if getattr(args, "at", None):
        args.at = _check_at(args.at)


def _with_output(args: argparse.Namespace, write) -> int:
    if args.output is None:
        return write(sys.stdout)
    with open(args.output, "w", encoding="utf-8") as out:
        return write(out)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    from archive.lock import LockHeld
    from crawler.sites import SitesError
    from pipelines.extraction import MissingDependency

    try:
        check_args(args)
        return int(args.func(args) or 0)
    except (UsageError, SitesError, LockHeld) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except MissingDependency as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # `nianbao cdx | head`: the reader left; stop quietly like other Unix tools.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
