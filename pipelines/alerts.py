"""One digest per crawl run: new, changed, removed and restored reports, newly failing checks, failing sites.

The digest is markdown in Chinese (with English terms where they help), built from plain dicts so it does
not depend on the database schema. Nothing to say gives no digest at all (never an empty alert). Delivery,
byte limits and retries live in pipelines/alert_channels.py and are re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipelines.alert_channels import CHANNEL_LIMITS, fit_to_limit, mask_url, send_digest
from pipelines.diff import cell_label, format_value, render_text_diff

__all__ = [
    "CHANNEL_LIMITS", "Digest", "build_digest", "fit_to_limit", "mask_url", "send_digest",
    "should_alert_site_failure",
]

KIND_LABELS = {
    "new": "新增 new",
    "changed": "修改 changed",
    "removed": "撤下 removed",
    "restored": "恢复 restored",
}
KIND_ORDER = ("changed", "new", "restored", "removed")
TABLE_LABELS = {"table2": "表二", "table3": "表三", "table4": "表四"}
MAX_CELLS_PER_CHANGE = 12
MAX_HUNKS_PER_CHANGE = 5
MAX_LABEL_CHARS = 18


@dataclass
class Digest:
    title: str
    body: str
    link: str | None = None
    counts: dict[str, int] = field(default_factory=dict)


def should_alert_site_failure(consecutive_failed_runs: int, threshold: int = 3, remind_every: int = 10) -> bool:
    """A site's fetch errors alert once they reach `threshold` consecutive failed runs, then every
    `remind_every` further runs (not every run: a dead portal must not flood the channel)."""
    if consecutive_failed_runs < threshold:
        return False
    return (consecutive_failed_runs - threshold) % max(remind_every, 1) == 0


def _label(table: str, axis: str, key: Any) -> str:
    label = cell_label(table, axis, key)
    return label if len(label) <= MAX_LABEL_CHARS else label[:MAX_LABEL_CHARS] + "…"


def _link(ref: str | None, link_base: str | None) -> str | None:
    if not ref:
        return None
    if ref.startswith(("http://", "https://")) or not link_base:
        return ref
    return link_base.rstrip("/") + "/" + ref.lstrip("/")


def _md_link(text: str, target: str | None) -> str:
    if target and target.startswith(("http://", "https://")):
        return f"[{text}]({target})"
    return f"{text}（{target}）" if target else text


def _cell_line(cell: dict[str, Any]) -> str:
    table = str(cell.get("table"))
    where = f"{TABLE_LABELS.get(table, table)} {_label(table, 'row', cell.get('row'))} × " \
            f"{_label(table, 'column', cell.get('column'))}"
    if cell.get("old_raw") is None and cell.get("old") is None and cell.get("new") is not None:
        what = f"新增 {format_value(cell.get('new'))}"
    elif cell.get("new_raw") is None and cell.get("new") is None and cell.get("old") is not None:
        what = f"删除 {format_value(cell.get('old'))}"
    else:
        what = f"{format_value(cell.get('old'))} → **{format_value(cell.get('new'))}**"
    return f"  - {where}：{what}"


def _change_section(change: dict[str, Any], link_base: str | None) -> list[str]:
    kind = change.get("kind", "changed")
    name = change.get("title") or " ".join(
        str(p) for p in (change.get("agency"), change.get("year"), "年报") if p)
    site = f"（{change['site']}）" if change.get("site") else ""
    lines = [f"#### 【{KIND_LABELS.get(kind, kind)}】{_md_link(name, change.get('url'))}{site}"]
    cells = change.get("cell_diffs") or []
    if cells:
        lines.append(f"- 表格变化 cells（{len(cells)}）：")
        lines += [_cell_line(c) for c in cells[:MAX_CELLS_PER_CHANGE]]
        if len(cells) > MAX_CELLS_PER_CHANGE:
            lines.append(f"  - …另有 {len(cells) - MAX_CELLS_PER_CHANGE} 处单元格变化")
    hunks = change.get("text_diff") or []
    if hunks:
        lines.append(f"- 文字变化 text（{len(hunks)} 处）：")
        rendered = render_text_diff(hunks[:MAX_HUNKS_PER_CHANGE], "markdown").splitlines()
        lines += [f"  - {line}" for line in rendered]
        if len(hunks) > MAX_HUNKS_PER_CHANGE:
            lines.append(f"  - …另有 {len(hunks) - MAX_HUNKS_PER_CHANGE} 处文字变化")
    before, after = _link(change.get("before"), link_base), _link(change.get("after"), link_base)
    archived = [p for p in (before and _md_link("变化前 before", before), after and _md_link("变化后 after", after))
                if p]
    if archived:
        lines.append("- 存档 archived：" + " · ".join(archived))
    return lines


def build_digest(
    run: dict[str, Any],
    changes: list[dict[str, Any]],
    failing_checks: list[dict[str, Any]],
    site_failures: list[dict[str, Any]],
    link_base: str | None,
) -> Digest | None:
    """The run's digest, or None when there is nothing to report.

    `run`: {"id", "started", "finished", "link"?}; the digest's link (used in cut markers) is run["link"]
    when given, else `link_base`. Change dicts carry kind, site, agency, year, title, url, cell_diffs (as
    pipelines.diff.cell_diff), text_diff (hunks of pipelines.diff.text_diff), before and after (links, or
    capture references resolved against `link_base`). Failing checks: {title, url, rule, detail}. Site
    failures: {site, name, consecutive_failed_runs, last_error}, already filtered by the caller (see
    should_alert_site_failure).
    """
    if not changes and not failing_checks and not site_failures:
        return None
    counts = {kind: sum(1 for c in changes if c.get("kind") == kind) for kind in KIND_ORDER}
    headline = []
    if changes:
        headline.append(f"{len(changes)} 项变化")
    if failing_checks:
        headline.append(f"{len(failing_checks)} 项新不通过的检查")
    if site_failures:
        headline.append(f"{len(site_failures)} 个站点连续抓取失败")
    title = "nianbao：本次抓取发现 " + "、".join(headline)

    lines = []
    run_bits = [f"运行 run `{run.get('id', '?')}`"]
    if run.get("started"):
        run_bits.append(f"开始 {run['started']}")
    if run.get("finished"):
        run_bits.append(f"结束 {run['finished']}")
    lines.append(" · ".join(run_bits))

    if changes:
        summary = " · ".join(f"{KIND_LABELS[k]} {counts[k]}" for k in KIND_ORDER if counts[k])
        lines += ["", f"### 报告变化 reports（{len(changes)}）", summary]
        ordered = sorted(changes, key=lambda c: KIND_ORDER.index(c["kind"]) if c.get("kind") in KIND_ORDER else 9)
        for change in ordered:
            lines += [""] + _change_section(change, link_base)

    if failing_checks:
        lines += ["", f"### 新不通过的检查 failing checks（{len(failing_checks)}）"]
        for check in failing_checks:
            detail = f"：{check['detail']}" if check.get("detail") else ""
            name = _md_link(check.get("title") or check.get("url") or "?", check.get("url"))
            lines.append(f"- {name} — **{check.get('rule', '?')}**{detail}")

    if site_failures:
        lines += ["", f"### 站点连续抓取失败 failing sites（{len(site_failures)}）"]
        for site in site_failures:
            name = site.get("name") or site.get("site") or "?"
            key = f"（{site['site']}）" if site.get("site") and site.get("name") else ""
            error = f"，最近错误 last error：{site['last_error']}" if site.get("last_error") else ""
            lines.append(f"- {name}{key}：连续 {site.get('consecutive_failed_runs', '?')} 次运行抓取失败{error}")

    counts.update(failing_checks=len(failing_checks), site_failures=len(site_failures))
    return Digest(title=title, body="\n".join(lines).strip() + "\n", link=run.get("link") or link_base,
                  counts=counts)
