"""Debian's Chromium (headless, started here) opens pages of a running `nianbao serve`: the report page of the
西城区 2020 report (tables laid out, failing row highlighted) and the changes pages. The rendered DOM is checked and
screenshots are saved (in the test's tmp folder; set NIANBAO_SCREENSHOTS=DIR to keep them)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import lxml.html
import pytest
from PIL import Image
from test_serve_fixtures import XICHENG_2020, Server, serve_copy, xicheng_versions

ROOT = Path(__file__).resolve().parent.parent
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars"]
SUSPECT_RED = (224, 49, 49)  # td.cell-suspect in nianbao.css


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def chromium() -> str:
    found = find_chromium()
    if found is None:
        script = ROOT / "scripts" / "install-chromium.sh"
        subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=900)
        found = find_chromium()
    if found is None:
        pytest.skip("Chromium is not installed and scripts/install-chromium.sh could not install it "
                    "(needs root and Debian's package archive)")
    return found


@pytest.fixture(scope="module")
def server(demo_archive, tmp_path_factory):
    data = serve_copy(demo_archive, tmp_path_factory)
    running = Server(data, "--refresh", "0")
    running.versions = xicheng_versions(data)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    keep = os.environ.get("NIANBAO_SCREENSHOTS")
    out = Path(keep) if keep else tmp_path_factory.mktemp("screenshots")
    out.mkdir(parents=True, exist_ok=True)
    return out


def browse(chromium: str, profile: Path, url: str, *extra: str) -> subprocess.CompletedProcess:
    profile.mkdir(parents=True, exist_ok=True)
    return subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile}", *extra, url],
                          capture_output=True, text=True, timeout=180)


def dom(chromium: str, tmp_path: Path, url: str) -> lxml.html.HtmlElement:
    done = browse(chromium, tmp_path / "profile-dom", url, "--dump-dom")
    assert done.returncode == 0 and "<html" in done.stdout, done.stderr[-2000:]
    return lxml.html.fromstring(done.stdout)


def screenshot(chromium: str, tmp_path: Path, url: str, path: Path, height: int) -> Image.Image:
    done = browse(chromium, tmp_path / "profile-shot", url, f"--screenshot={path}", f"--window-size=1280,{height}")
    assert done.returncode == 0 and path.exists(), done.stderr[-2000:]
    image = Image.open(path).convert("RGB")
    assert image.size == (1280, height)
    return image


def count_near(image: Image.Image, colour: tuple[int, int, int], tolerance: int = 12) -> int:
    colours = image.getcolors(maxcolors=1 << 24) or []
    return sum(n for n, px in colours if all(abs(a - b) <= tolerance for a, b in zip(px, colour, strict=True)))


def text(el) -> str:
    return " ".join(el.text_content().split())


def test_report_page_in_chromium(chromium, server, shots, tmp_path):
    old, new = server.versions
    url = f"{server.root}/-/nianbao/report/{old}"
    page = dom(chromium, tmp_path, url)
    assert text(page.get_element_by_id("report-title")) == XICHENG_2020
    tables = page.cssselect("table.form-table")
    assert len(tables) == 3
    table3 = tables[1]
    header = [text(th) for th in table3.cssselect("thead th")]
    assert header[:2] == ["（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", "申请人情况"]
    assert "法人或其他组织" in header and "社会公益组织" in header
    suspect = table3.cssselect("tr.suspect-row")
    assert len(suspect) == 1
    row = suspect[0]
    assert text(row.cssselect("th")[0]) == "四、结转下年度继续办理"
    values = [text(td) for td in row.cssselect("td")]
    assert values == ["2701", "79", "0", "0", "2", "0", "2782"]
    flagged = {td.get("data-ref"): td.get("title") for td in row.cssselect("td.cell-suspect")}
    assert set(flagged) == {"table3.carried_out.natural_person", "table3.carried_out.commercial_enterprise",
                            "table3.carried_out.legal_service_org", "table3.carried_out.total"}
    assert "balances with 55" in flagged["table3.carried_out.total"]
    assert [text(td) for td in page.cssselect("tr.check-fail td")][:2] == ["T3-R3", "fail"]
    table4 = [text(td) for td in tables[2].cssselect("tbody td")]
    assert table4[:5] == ["57", "3", "4", "5", "69"]
    capture = page.cssselect("a.capture-link")[0].get("href")
    assert "/-/nianbao/capture/" in capture
    original = page.cssselect("a.original-url")[0]
    assert original.get("href").startswith("http://127.0.0.1:") and "noreferrer" in original.get("rel")
    assert f"/-/nianbao/report/{new}" in [a.get("href").removeprefix(server.root) for a in page.cssselect("a")]

    image = screenshot(chromium, tmp_path, url, shots / "report-xicheng-2020.png", 2600)
    assert count_near(image, SUSPECT_RED) > 500  # the highlighted cells are on screen

    fixed = dom(chromium, tmp_path, f"{server.root}/-/nianbao/report/{new}")
    assert not fixed.cssselect("tr.suspect-row")
    assert [text(td) for td in fixed.cssselect("table.nianbao-cell-diffs td.new")] == ["55", "0", "0", "55"]


def test_changes_pages_in_chromium(chromium, server, shots, tmp_path):
    listing = dom(chromium, tmp_path, f"{server.root}/-/nianbao/changes")
    rows = listing.cssselect("table.changes-list > tbody > tr")
    kinds = {row.get("class") for row in rows}
    assert kinds == {"change-changed", "change-removed"}
    changed = next(r for r in rows if r.get("class") == "change-changed")
    assert XICHENG_2020 in text(changed)
    diffs = [[text(td) for td in tr.cssselect("td")] for tr in changed.cssselect("table.nianbao-cell-diffs tbody tr")]
    assert ["表三", "四、结转下年度继续办理", "总计", "2782", "55"] in diffs
    link = changed.cssselect("td a")[0].get("href")
    screenshot(chromium, tmp_path, f"{server.root}/-/nianbao/changes", shots / "changes.png", 900)

    change_url = link if link.startswith("http") else server.root + link
    change = dom(chromium, tmp_path, change_url)
    assert text(change.cssselect("h1")[0]) == f"变更 changed: {XICHENG_2020}"
    # The correction is in a table: shown as a cell change, never as a hunk of flattened table text.
    cell_rows = [[text(td) for td in tr.cssselect("td")] for tr in change.cssselect("table.nianbao-cell-diffs tbody tr")]
    assert ["表三", "四、结转下年度继续办理", "总计", "2782", "55"] in cell_rows
    assert "2782" not in " ".join(text(el) for el in change.cssselect("div.text-diff del, div.text-diff ins"))
    screenshot(chromium, tmp_path, change_url, shots / "change-xicheng-2020.png", 900)


CHART_BLUE = (56, 103, 214)  # the first series colour of nianbao/datasette/charts.py


def test_site_and_agency_pages_in_chromium(chromium, server, shots, tmp_path):
    site_url = f"{server.root}/-/nianbao/site/xicheng"
    page = dom(chromium, tmp_path, site_url)
    assert text(page.get_element_by_id("site-title")).startswith("北京市西城区人民政府")
    charts = page.cssselect("svg.nb-chart")
    assert len(charts) == 4 and all(c.get("aria-label") for c in charts)
    years = [text(tr.cssselect("td")[0]) for tr in page.cssselect("table.site-years tbody tr")]
    assert "2020" in years and years == sorted(years)
    image = screenshot(chromium, tmp_path, site_url, shots / "site-xicheng.png", 1500)
    assert count_near(image, CHART_BLUE, 20) > 300  # the charts are drawn, not just present in the DOM

    link = next(a.get("href") for a in page.cssselect("a.agency-link") if text(a) == "北京市西城区人民政府")
    agency_url = link if link.startswith("http") else server.root + link
    agency = dom(chromium, tmp_path, agency_url)
    assert len(agency.cssselect("svg.nb-chart")) == 2
    row = next(tr for tr in agency.cssselect("table.agency-series tbody tr") if text(tr.cssselect("td")[0]) == "2020")
    assert text(row.cssselect("td")[1]).startswith("1576")
    image = screenshot(chromium, tmp_path, agency_url, shots / "agency-xicheng.png", 1100)
    assert count_near(image, CHART_BLUE, 20) > 100
