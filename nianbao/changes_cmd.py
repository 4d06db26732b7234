"""`nianbao changes`, `history`, `diff`, `search` (reading what the archive knows) and `reevaluate`."""

from __future__ import annotations

import argparse
import json
import sys

from nianbao.commands import command, data_arg, json_arg, wait_arg

# The pipelines are imported by the commands that run, not when the parser is built: every `nianbao` command
# builds the parser of all of them (sqlite-utils alone is a fifth of a second to import).


def _changes_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--since", default=None, help="only changes detected on or after this date (YYYY-MM-DD)")
    p.add_argument("--kind", action="append", choices=["new", "changed", "restored", "removed"],
                   help="only these kinds (repeatable)")
    p.add_argument("--all", action="store_true",
                   help="also list fetches that changed nothing: unchanged, not_modified, error, blocked, "
                        "extract_failed")


def _url_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("url")


def _versions_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("a", type=int, metavar="VERSION_A")
    p.add_argument("b", type=int, metavar="VERSION_B")


def _reevaluate_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("url", nargs="*", help="only these pages (default: every report page and file)")


def _search_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("words", nargs="+")
    p.add_argument("--limit", type=int, default=50)


def _cell_lines(cells: list[dict]) -> list[str]:
    from pipelines.diff import cell_label, format_value

    return [f"    {c['table']} {cell_label(c['table'], 'row', c['row'])} × {cell_label(c['table'], 'column', c['column'])}:"
            f" {format_value(c.get('old'))} -> {format_value(c.get('new'))}" for c in cells]



@command("changes", "list changes (new, changed, restored, removed reports) with their diffs",
         data_arg, _changes_arguments, json_arg, reads="db")
def cmd_changes(args: argparse.Namespace) -> int:
    from pipelines import database, queries
    from pipelines.diff import render_text_diff

    db = database.connect(args.data)
    rows = queries.changes(db, since=args.since, kinds=tuple(args.kind) if args.kind else None)
    if args.all:
        rows = sorted(rows + queries.fetch_outcomes(db, since=args.since), key=lambda r: r["detected_at"] or "")
    if args.json:
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=1)
        print()
        return 0
    if not rows:
        print("no changes" + (f" since {args.since}" if args.since else ""))
        return 0
    for row in rows:
        print(f"{row['detected_at'][:19]}  {row['kind']:8} {row['title']}  ({row['site']}, {row['year']})")
        print(f"    {row['url']}  {row['summary']}")
        print("\n".join(_cell_lines(row["cell_diffs"])[:20]))
        if row["text_diff"]:
            print("    text: " + render_text_diff(row["text_diff"][:5], "text").replace("\n", "\n          "))
    return 0



@command("history", "a page's fetches with their outcomes, and its versions", _url_argument, data_arg, json_arg,
         reads="db")
def cmd_history(args: argparse.Namespace) -> int:
    from pipelines import database, queries

    db = database.connect(args.data)
    info = queries.history(db, args.url)
    if args.json:
        json.dump(info, sys.stdout, ensure_ascii=False, indent=1)
        print()
        return 0 if info["known"] else 1
    if not info["known"] and not info["fetches"]:
        print(f"{args.url} is not in the archive", file=sys.stderr)
        return 1
    print(f"{args.url}  ({info['kind']}, last outcome: {info['last_outcome']})")
    print("fetches:")
    for f in info["fetches"]:
        print(f"  {f['timestamp'][:19]}  {f['record_type']:8} {f['status'] or '-':>4}  "
              f"{f['outcome'] or '-':14} version {f['version_id'] or '-'}")
    print("versions:")
    for v in info["versions"]:
        current = "  (current)" if v["id"] == info["current_version_id"] else ""
        print(f"  #{v['id']}  first seen {v['first_seen'][:19]}  last seen {v['last_seen'][:19]}  "
              f"{v['content_hash'][:12]}  template {v['template'] or '-'}{current}")
    return 0



@command("diff", "cell and text differences between two versions of a report", _versions_arguments, data_arg,
         json_arg, reads="db")
def cmd_diff(args: argparse.Namespace) -> int:
    from pipelines import database, queries
    from pipelines.diff import cell_diff, render_text_diff, text_diff

    db = database.connect(args.data)
    a, b = queries.version(db, args.a), queries.version(db, args.b)
    for vid, v in ((args.a, a), (args.b, b)):
        if v is None:
            print(f"error: no version {vid}", file=sys.stderr)
            return 2
    cells = cell_diff(a["cells"], b["cells"])
    hunks = text_diff(a["normalised_text"], b["normalised_text"])
    if args.json:
        json.dump({"a": args.a, "b": args.b, "cell_diffs": cells, "text_diff": hunks}, sys.stdout,
                  ensure_ascii=False, indent=1)
        print()
        return 0
    print(f"version {args.a} ({a['first_seen'][:19]}) -> version {args.b} ({b['first_seen'][:19]})  {b['url']}")
    print(f"cells: {len(cells)} changed")
    print("\n".join(_cell_lines(cells)))
    print(f"text: {len(hunks)} change(s)")
    if hunks:
        print("  " + render_text_diff(hunks, "text").replace("\n", "\n  "))
    return 0



@command("search", "search report text (Chinese, one- and two-character words included)", _search_arguments,
         data_arg, json_arg, reads="db")
def cmd_search(args: argparse.Namespace) -> int:
    from pipelines import database
    from pipelines.search import search

    db = database.connect(args.data)
    rows = search(db, " ".join(args.words), limit=args.limit)
    if args.json:
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=1)
        print()
        return 0
    for row in rows:
        print(f"{row['year']}  {row['agency']}  {row['title']}\n    {row['url']}\n    {row['snippet']}")
    print(f"{len(rows)} report(s)")
    return 0 if rows else 1



@command("reevaluate", "rebuild versions and changes from the archived captures (no refetch)",
         _reevaluate_arguments, data_arg, wait_arg, reads="db",
         description="After the normalisation or extraction rules changed: re-read every report capture from the "
                     "WARC files and rebuild versions, cells, checks and changes.")
def cmd_reevaluate(args: argparse.Namespace) -> int:
    from pipelines.reevaluate import reevaluate

    counts = reevaluate(args.data, urls=args.url or None, wait=args.wait)
    print("re-evaluated from the WARC files: " + (", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
                                                  or "nothing to re-evaluate"))
    return 0
