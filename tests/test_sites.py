"""The sites registry: minimal entries work, mistakes get clear messages, the CLI lists and validates."""

import subprocess
import sys

import pytest

from crawler.sites import SitesError, load_sites, parse_sites


def test_minimal_entry_gets_key_and_domains():
    sites = parse_sites({"sites": [{"name": "北京市西城区人民政府", "start_urls": ["https://www.bjxch.gov.cn/"]}]})
    site = sites["bjxch"]
    # Without www.: 政务公开 on a sibling host (zwgk.bjxch.gov.cn) is in scope; other sites of the province are not.
    assert site.allowed_domains == ("bjxch.gov.cn",)
    dept = parse_sites({"sites": [{"name": "江西省生态环境厅", "start_urls": ["https://sthjt.jiangxi.gov.cn/"]}]})
    assert next(iter(dept.values())).allowed_domains == ("sthjt.jiangxi.gov.cn",)
    assert site.cms is None and site.download_delay is None


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"start_urls": ["https://a.gov.cn/"]}, "`name` is required"),
        ({"name": "x"}, "`start_urls` is required"),
        ({"name": "x", "start_urls": ["ftp://a.gov.cn/"]}, "is not an http(s) URL"),
        ({"name": "x", "start_urls": ["https://a.gov.cn/"], "cms": "wordpress"}, "`cms` must be one of"),
        ({"name": "x", "start_urls": ["https://a.gov.cn/"], "colour": "red"}, "unknown field(s) colour"),
        ({"name": "x", "start_urls": ["https://a.gov.cn/"], "download_delay": -1}, "`download_delay`"),
        ({"name": "x", "start_urls": ["https://a.gov.cn/"], "allowed_domains": ["https://a.gov.cn/"]},
         "`allowed_domains`"),
    ],
)
def test_invalid_entries_are_explained(entry, message):
    with pytest.raises(SitesError, match="site #1") as err:
        parse_sites({"sites": [entry]}, "f.yaml")
    assert message in str(err.value)


def test_duplicate_keys_rejected():
    entry = {"name": "x", "start_urls": ["https://www.a.gov.cn/"]}
    with pytest.raises(SitesError, match="used twice"):
        parse_sites({"sites": [entry, dict(entry, name="y")]})


def test_bundled_registry_is_valid_and_names_xicheng():
    sites = load_sites()
    assert sites["bjxch"].site_code == "1101020002"
    assert sites["bjxch"].start_urls == ("https://www.bjxch.gov.cn/",)


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "nianbao", *args], capture_output=True, text=True, timeout=60)


def test_cli_sites_lists_and_validates(tmp_path):
    ok = run_cli("sites")
    assert ok.returncode == 0 and "bjxch" in ok.stdout and "(valid)" in ok.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("sites:\n  - name: 无网址\n", encoding="utf-8")
    res = run_cli("sites", "--sites", str(bad))
    assert res.returncode == 2
    assert "start_urls` is required" in res.stderr


def test_cli_help_for_every_command():
    top = run_cli("--help")
    assert top.returncode == 0
    for command in ("demo", "crawl", "sites", "portal"):
        assert command in top.stdout
        res = run_cli(command, "--help")
        assert res.returncode == 0, res.stderr
        assert "--" in res.stdout
