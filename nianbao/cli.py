"""The `nianbao` command line: one tool in front of the crawler, the archive and the demo portal."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from nianbao import __version__
from nianbao.commands import REGISTRY, UsageError, command, data_arg, notify_args, wait_arg

# The modules whose commands the parser offers (each registers its own with @command).
COMMAND_MODULES = ("nianbao.cli", "nianbao.changes_cmd", "nianbao.watch", "nianbao.serve", "nianbao.export_cmd",
                   "nianbao.workers_cmd")


def _sites_file_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sites", default=None, help="sites YAML file, layered over the bundled registry (its "
                                                      "entries win by key; alone when it says `bundled: false`)")


def _region_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--region", default=None, metavar="PLACE",
                        help="the sites of a place and every place below it: a province, prefecture or county name "
                             "(福建省, 福州市, 北京市西城区) or a division-code prefix (3501)")
    parser.add_argument("--level", default=None, choices=("province", "prefecture", "county"),
                        help="only the sites of this level")


def _sites_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", nargs="?", default="list", choices=("list", "probe"),
                   help="list (default): list and validate the registry; probe: visit each home page once and "
                        "record what answers (in the data folder's database)")
    p.add_argument("site", nargs="*", help="probe: site keys (default: the --region, or the sites crawled by default)")
    _sites_file_arg(p)
    _region_args(p)
    p.add_argument("--all", action="store_true", help="list every site of the registry")
    data_arg(p)
    p.add_argument("--delay", type=float, default=None, help="probe: seconds between requests to one host "
                                                             "(default: the crawl's, 2)")
    p.add_argument("--contact", default=None, help="probe: contact address put in the User-Agent")
    wait_arg(p)


@command("sites", "list and validate the sites registry; `sites probe` checks which home pages answer",
         _sites_arguments,
         description="List the portals of the registry (the bundled portals of every people's government, the "
                     "curated entries, and --sites FILE over them) and validate it: exit 2 with a message naming "
                     "the entry and the field when it is invalid. `nianbao sites probe` visits each selected home "
                     "page once, politely and archived, and records in the database whether it answered, where it "
                     "redirected, the 政府网站标识码 in its footer and a 年报 column link; it exits 0 only when every "
                     "probed site answered.")
def cmd_sites(args: argparse.Namespace) -> int:
    if args.action == "probe":
        return _probe(args)
    if args.site:
        raise UsageError("`nianbao sites` lists a --region or --all; name sites only after `probe`")
    from crawler.registry import load_registry

    registry = load_registry(args.sites)
    if args.region is not None or args.level is not None or args.all:
        selection = _selection(registry, args.region, args.level)
        scope = " ".join(x for x in (args.region, args.level and f"level {args.level}") if x) or "all"
        print(f"{scope}: {_counts(selection.sites)} in {registry.source} (valid)")
        if len(selection.places) > 1:
            print(f"  {args.region} names {len(selection.places)} places: {'; '.join(selection.places)}")
        sites = selection.sites
    else:
        sites = [registry.sites[key] for key in registry.default]
        total = len(registry.sites)
        print(f"{len(sites)} site(s) crawled when none is named, of {total:,} in {registry.source} (valid); "
              "--region PLACE or --all lists more")
    for site in sites:
        print(_site_line(registry, site))
    return 0


def _probe(args: argparse.Namespace) -> int:
    from crawler.registry import load_registry
    from nianbao.api import probe
    from nianbao.probing import format_probe

    registry = load_registry(args.sites)
    if args.site and (args.region is not None or args.level is not None):
        raise UsageError("name sites or give --region/--level, not both")
    if args.region is not None or args.level is not None:
        selection = _selection(registry, args.region, args.level)
        sites, what = selection.sites, " ".join(x for x in (args.region, args.level) if x)
    elif args.site:
        sites, what = registry.lookup(args.site), "named"
    else:
        sites, what = [registry.sites[key] for key in registry.default], "crawled by default"
    chosen = [s for s in sites if not s.disabled]
    print(f"Probing {len(chosen)} site(s) ({what}) into {args.data}")
    for site in sites:
        if site.disabled:
            print(f"  not probed: {site.key} {site.region or site.name}: {site.disabled}")
    if not chosen:
        raise UsageError("no site with a usable URL to probe")
    result = probe(chosen, args.data, overrides=crawl_overrides(args), wait=args.wait, isolate=False)
    print(format_probe(result, {s.key: s.site_code for s in chosen}))
    # 0 only when every probed site answered: a probe in cron mails what went away.
    return 1 if result.failures() else 0


def _selection(registry, region: str | None, level: str | None):
    selection = registry.select(region, level)
    if not selection.sites:
        near = registry.suggest(region) if region else []
        raise UsageError(f"no site of {region or 'the registry'}{f' at level {level}' if level else ''} in "
                         f"{registry.source}" + (f"; did you mean {', '.join(near)}?" if near else
                                                 "; give a place name (福建省, 福州市, 北京市西城区) or a "
                                                 "division-code prefix (3501)"))
    return selection


def _counts(sites: list) -> str:
    levels = {level: sum(1 for s in sites if s.level == level) for level in ("province", "prefecture", "county")}
    other = sum(1 for s in sites if s.level not in levels)
    parts = [f"{n} {level}" for level, n in levels.items() if n] + ([f"{other} without level"] if other else [])
    off = sum(1 for s in sites if s.disabled)
    return (f"{len(sites)} site(s) ({', '.join(parts)})" if parts else f"{len(sites)} site(s)") + \
        (f", {off} not crawlable" if off else "")


def _site_line(registry, site) -> str:
    """`  110102  county      西城区  https://www.bjxch.gov.cn/  code=1101020002 alias=bjxch`: indented by level,
    the portal's name when it is not the place's 人民政府."""
    from crawler.registry import portal_name

    path = registry.path(site)
    depth = {"province": 0, "prefecture": 1, "county": 2}.get(site.level or "", 0)
    place = path[-1] if path else site.name
    usual = bool(path) and site.name in (portal_name(place, site.level or "", path[0], True), place)
    label = place if usual else f"{place} ({site.name})" if path else site.name
    code = f" [{site.division_code}]" if site.division_code and site.division_code != site.key else ""
    where = " ".join(site.start_urls) if not site.disabled else f"NOT CRAWLABLE: {site.disabled}"
    extra = [f"{k}={v}" for k, v in (("code", site.site_code), ("cms", site.cms)) if v]
    extra += [f"alias={a}" for a in registry.aliases_of(site.key)]
    return f"  {site.key:<15} {site.level or '-':<11}{'  ' * depth}{label}{code}  {where}  {' '.join(extra)}".rstrip()


def crawl_overrides(args: argparse.Namespace) -> dict:
    overrides = {}
    if getattr(args, "delay", None) is not None:
        overrides["NIANBAO_DOWNLOAD_DELAY"] = args.delay
    if getattr(args, "contact", None):
        overrides["NIANBAO_CONTACT"] = args.contact
    if getattr(args, "sites_in_flight", None) is not None:
        overrides["NIANBAO_SITES_IN_FLIGHT"] = args.sites_in_flight
    return overrides


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {value}")
    return value


def _crawl_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("site", nargs="*", help="site keys or division codes (see `nianbao sites`); default: the "
                                           "--region, else the sites of --sites FILE, else the curated sites")
    _sites_file_arg(p)
    _region_args(p)
    data_arg(p)
    p.add_argument("--delay", type=float, default=None, help="override every site's delay between requests (s)")
    p.add_argument("--contact", default=None, help="contact address put in the User-Agent")
    p.add_argument("--sites-in-flight", type=_positive_int, default=None, metavar="K",
                   help="crawl at most K sites at once; the next starts when one ends (default: 48 per core)")
    p.add_argument("--resume", action="store_true",
                   help="continue the last unfinished crawl of the data folder (same run id; completed pages are "
                        "not fetched again)")


@command("crawl", "crawl portals of the sites registry", _crawl_arguments, wait_arg, notify_args,
         description="Crawl the named sites, or every crawlable site of a --region (and --level); with neither, "
                     "the sites of --sites FILE, else the curated ones: find the 年报 column, walk its lists, fetch "
                     "every report page and attachment, archive every exchange as WARC.")
def cmd_crawl(args: argparse.Namespace) -> int:
    from archive.lock import writer_lock
    from crawler.registry import load_registry

    # What to crawl is settled before the data folder is touched (a mistyped region creates nothing); then the
    # writer lock: a refused crawl must not read or touch the folder's job state.
    if args.resume and (args.site or args.region or args.level):
        raise UsageError("--resume crawls the sites of the run it continues: name no site, --region or --level")
    registry = load_registry(args.sites)
    sites = None if args.resume else _chosen_sites(args, registry)
    with writer_lock(args.data, wait=args.wait):
        return _crawl(args, registry, sites)


def _chosen_sites(args: argparse.Namespace, registry) -> list:
    from nianbao.api import resolve_sites

    if args.region is None and args.level is None:
        return resolve_sites(args.site or None, registry)
    if args.site:
        raise UsageError("name sites or give --region/--level, not both")
    selection = _selection(registry, args.region, args.level)
    if len(selection.places) > 1:
        raise UsageError(f"{args.region} names {len(selection.places)} places: {'; '.join(selection.places)}; "
                         "give the full name (省/市 included) or the division code")
    if not selection.crawlable:
        raise UsageError(f"no crawlable site in {args.region or 'the registry'}: "
                         + "; ".join(f"{s.key} {s.disabled}" for s in selection.not_crawlable))
    print(f"{args.region or 'all'}{f' ({args.level})' if args.level else ''}: {len(selection.crawlable)} "
          "site(s) to crawl", flush=True)
    for site in selection.not_crawlable:
        print(f"  not crawlable, skipped: {site.key} {site.region or site.name}: {site.disabled}", flush=True)
    return selection.crawlable


def _crawl(args: argparse.Namespace, registry, sites: list | None) -> int:
    from crawler.sites import load_notify, load_sites
    from nianbao.api import crawl
    from nianbao.runner import format_summary, run_sites_file

    if args.resume:
        from archive.jobstate import unfinished_run

        state = unfinished_run(args.data)
        if state is None:
            raise UsageError(f"no unfinished crawl to resume in {args.data}")
        remembered = run_sites_file(args.data, state["run_id"])
        # The sites the run was started with, from whichever file they came.
        known = load_sites(remembered) if remembered.exists() else {}
        sites = [known.get(key) or registry.get(key) for key in state["sites"]]
        lost = [key for key, site in zip(state["sites"], sites, strict=True) if site is None]
        sites = [site for site in sites if site is not None]
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
