"""The `nianbao` command line: one tool in front of the crawler, the archive and the demo portal."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from nianbao import __version__
from nianbao.commands import REGISTRY, UsageError, command, data_arg, notify_args, wait_arg

# The modules whose commands the parser offers (each registers its own with @command).
COMMAND_MODULES = ("nianbao.cli", "nianbao.changes_cmd", "nianbao.watch", "nianbao.serve")


def _sites_file_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sites", default=None, help="sites YAML file (default: the bundled registry)")


@command("sites", "list and validate the sites registry", _sites_file_arg,
         description="List the portals of a sites file and validate it (exit 2 with a message when it is invalid).")
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


def _crawl_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("site", nargs="*", help="site keys (see `nianbao sites`)")
    _sites_file_arg(p)
    data_arg(p)
    p.add_argument("--delay", type=float, default=None, help="override every site's delay between requests (s)")
    p.add_argument("--contact", default=None, help="contact address put in the User-Agent")
    p.add_argument("--resume", action="store_true",
                   help="continue the last unfinished crawl of the data folder (same run id; completed pages are "
                        "not fetched again)")


@command("crawl", "crawl portals of the sites registry", _crawl_arguments, wait_arg, notify_args,
         description="Crawl the named sites (all when none is named): find the 年报 column, walk its lists, fetch "
                     "every report page and attachment, archive every exchange as WARC.")
def cmd_crawl(args: argparse.Namespace) -> int:
    from archive.lock import writer_lock

    # The writer lock first: a refused crawl must not read or touch the folder's job state.
    with writer_lock(args.data, wait=args.wait):
        return _crawl(args)


def _crawl(args: argparse.Namespace) -> int:
    from crawler.sites import load_notify, load_sites
    from nianbao.api import crawl
    from nianbao.runner import format_summary, run_sites_file

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
    # In this process: a command crawls once, and `watch` stops it with a signal it must receive itself.
    result = crawl(sites, args.data, overrides=crawl_overrides(args), notify=notify, link_base=args.link_base,
                   resume=args.resume, isolate=False)
    print(format_summary(result))
    # 0 means complete; every shortfall (printed on the last line) makes it 1: worth a cron mail.
    return 1 if result.shortfalls() else 0


def _portal_arguments(p: argparse.ArgumentParser) -> None:
    from nianbao.portal import command as portal_command

    portal_command.add_arguments(p)


@command("portal", "serve the bundled demo portal on loopback", _portal_arguments,
         description="Serve the bundled, deterministic replica of district portals (TRS, Hanweb, real Pingtan "
                     "pages, a generic CMS) on loopback, one port per site.")
def cmd_portal(args: argparse.Namespace) -> int:
    from nianbao.portal import command

    return command.run(args)


def _demo_arguments(p: argparse.ArgumentParser) -> None:
    data_arg(p)
    p.add_argument("--edition", type=int, default=1, help="portal edition to crawl (2 = later edits; default 1)")
    p.add_argument("--delay", type=float, default=None, help="seconds between requests to one site (default 0.05)")
    p.add_argument("--port", type=int, default=8800,
                   help="first port of the demo portal (site i on port+i; default 8800, the same every run so "
                        "that runs into one data folder can be compared)")


@command("demo", "start the bundled demo portal, crawl it into the data folder, print a summary",
         _demo_arguments, notify_args,
         description="Run the main job end to end on the bundled demo portal (served on loopback): crawl every "
                     "site, write WARC files and the SQLite database, print a summary.")
def cmd_demo(args: argparse.Namespace) -> int:
    from nianbao.demo import DemoRefused, run_demo

    try:
        return run_demo(args.data, edition=args.edition, delay=args.delay, port=args.port, notify=args.notify,
                        link_base=args.link_base)
    except DemoRefused as exc:
        raise UsageError(str(exc)) from exc


def _extract_arguments(p: argparse.ArgumentParser) -> None:
    from pipelines import extract_cli

    extract_cli.add_arguments(p)


@command("extract", "extract one saved report document offline (HTML, PDF, DOCX, text dump)", _extract_arguments,
         description="Extract text, metadata, the three standard tables as cells and the format's checks from one "
                     "saved document.")
def cmd_extract(args: argparse.Namespace) -> int:
    from pipelines import extract_cli

    return extract_cli.run(args)


def _output_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--output", type=Path, default=None, help="file to write (default: standard output)")


@command("cdx", "write a CDXJ index of the WARC files", data_arg, _output_arg, reads="archive",
         description="Write a CDXJ index (one line per response/revisit record) of the archive.")
def cmd_cdx(args: argparse.Namespace) -> int:
    from archive import commands

    return _with_output(args, lambda out: commands.cdx(args.data, out))


def _show_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("url")
    p.add_argument("--at", default=None, help="the capture closest before this timestamp (YYYYMMDDhhmmss)")
    data_arg(p)
    p.add_argument("-o", "--output", type=Path, default=None,
                   help="write the archived body (transfer and content codings undone) to this file")


@command("show", "print an archived capture of a URL (headers and decoded body)", _show_arguments, reads="db",
         description="Print a capture's status line, headers and decoded body, read from the WARC.")
def cmd_show(args: argparse.Namespace) -> int:
    from archive import commands

    return commands.show(args.data, args.url, args.at, sys.stdout, args.output)


@command("reindex", "rebuild the captures table from the WARC files alone", data_arg, wait_arg, reads="archive")
def cmd_reindex(args: argparse.Namespace) -> int:
    from archive import commands
    from archive.lock import writer_lock

    with writer_lock(args.data, wait=args.wait):
        return commands.reindex(args.data)


def _wacz_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("site", nargs="?", default=None, help="site key (default: every site)")
    data_arg(p)
    p.add_argument("-o", "--output", type=Path, required=True, help="the .wacz file to write")


@command("wacz", "package a site's captures as a WACZ (ReplayWeb.page, pywb)", _wacz_arguments, reads="db",
         description="Package a site's captures (with the originals its revisits refer to) and a pages.jsonl of "
                     "its report pages into one WACZ file.")
def cmd_wacz(args: argparse.Namespace) -> int:
    from archive import commands

    return commands.wacz(args.data, args.site, args.output)


@command("check", "verify every WARC file (digests, structure) and the index rows", data_arg, reads="archive")
def cmd_check(args: argparse.Namespace) -> int:
    from archive import commands

    return commands.check(args.data)


def build_parser() -> argparse.ArgumentParser:
    """The parser of every registered command (nianbao/commands.py), in the order of COMMAND_MODULES."""
    from importlib import import_module

    for module in COMMAND_MODULES:
        import_module(module)
    parser = argparse.ArgumentParser(
        prog="nianbao",
        description="Find, archive (WARC) and index Chinese government information-disclosure annual reports "
                    "(政府信息公开工作年度报告).",
    )
    parser.add_argument("--version", action="version", version=f"nianbao {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for cmd in REGISTRY.values():
        p = sub.add_parser(cmd.name, help=cmd.help, description=cmd.description or cmd.help[:1].upper() + cmd.help[1:])
        for add in cmd.arguments:
            add(p)
        p.set_defaults(func=cmd.run)
    return parser



def require_archive(args: argparse.Namespace) -> None:
    """Raise UsageError (exit 2) when the command reads an archive that `--data` does not hold (its `reads`).
    Creates nothing: a mistyped --data must not make an empty archive and report "no changes"."""
    registered = REGISTRY.get(getattr(args, "command", None) or "")
    if registered is None or registered.reads is None or getattr(args, "data", None) is None:
        return
    from nianbao.api import ArchiveNotFound, find_archive

    try:
        find_archive(args.data, registered.reads)
    except ArchiveNotFound as exc:
        raise UsageError(str(exc).replace("point at an existing archive", "point --data at an existing archive")) \
            from None


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
