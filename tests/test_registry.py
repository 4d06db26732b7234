"""The bundled registry: every people's government from crawler/data/portals.csv, keyed by division code, joined
with the curated sites.yaml (old keys as aliases), a user's file over both, and regions selected by name or code."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from crawler.registry import bundled_registry, load_registry, portals_path
from crawler.sites import SitesError, parse_sites

ROOT = Path(__file__).resolve().parent.parent
# 北京市 and its 16 districts, as crawler/data/portals.csv has them (民政部 2024 codes).
BEIJING = {
    "110000": "北京市", "110101": "东城区", "110102": "西城区", "110105": "朝阳区", "110106": "丰台区",
    "110107": "石景山区", "110108": "海淀区", "110109": "门头沟区", "110111": "房山区", "110112": "通州区",
    "110113": "顺义区", "110114": "昌平区", "110115": "大兴区", "110116": "怀柔区", "110117": "平谷区",
    "110118": "密云区", "110119": "延庆区",
}


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nianbao", *args], capture_output=True, text=True, timeout=120,
                          cwd=ROOT)


def test_bundled_copy_has_every_row_of_the_csv_keyed_by_division_code():
    with open(portals_path(), encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    registry = bundled_registry()
    assert len(rows) == len(registry.sites) == 3215
    coded = {r["division_code"] for r in rows if r["division_code"]}
    assert coded <= set(registry.sites)
    levels = [s.level for s in registry.sites.values()]
    assert (levels.count("province"), levels.count("prefecture"), levels.count("county")) == (34, 333, 2848)
    # Units without a code get fixed keys below their parent.
    assert registry.sites["232700-jgdq"].region == "黑龙江省大兴安岭地区加格达奇区"
    assert registry.sites["500000-ljxq"].division_code is None


def test_known_errors_are_listed_but_not_crawlable():
    registry = bundled_registry()
    disabled = {k for k, s in registry.sites.items() if s.disabled}
    assert disabled == {"350527", "460302", "460303", "710000",      # no URL
                        "370811", "370826", "370827",                # 政务服务 hosts
                        "222404", "341702", "420281",                # the prefecture's portal
                        "310107",                                    # Zhoushan's 普陀区 host
                        "810000", "820000"}                          # no 年报
    assert "政务服务" in registry.sites["370811"].disabled
    assert "延边朝鲜族自治州" in registry.sites["222404"].disabled
    assert registry.sites["350527"].start_urls == ()
    # The source's probe reached 邢台 only on http: that URL is the start.
    assert registry.sites["130500"].start_urls == ("http://www.xingtai.gov.cn/",)
    assert not registry.sites["330903"].disabled  # 舟山市普陀区 keeps putuo.gov.cn


def test_curated_entries_take_the_division_code_and_keep_their_keys_as_aliases():
    registry = bundled_registry()
    xicheng = registry.get("bjxch")
    assert xicheng is registry.get("110102") and xicheng.key == "110102"
    assert xicheng.start_urls == ("https://www.bjxch.gov.cn/",) and xicheng.site_code == "1101020002"
    assert xicheng.level == "county" and xicheng.province == "北京市"
    assert registry.get("pingtan").key == "350128" and registry.get("pingtan").cms == "trs"
    assert registry.default == ["110102", "110107", "110101", "350128", "310000"]


def test_regions_by_name_at_any_level_and_by_code_prefix():
    registry = bundled_registry()
    assert {s.key: registry.path(s)[-1] for s in registry.select("北京市").sites} == BEIJING
    fujian = registry.select("福建省")
    assert len(fujian.sites) == 94 and fujian.places == ["350000 福建省"]
    assert [s.key for s in fujian.not_crawlable] == ["350527"]
    assert {s.level for s in registry.select("福建省", "prefecture").sites} == {"prefecture"}
    assert len(registry.select("福建省", "prefecture").sites) == 9
    fuzhou = [s.key for s in registry.select("福州市").sites]
    assert fuzhou[0] == "350100" and "350121" in fuzhou and all(k.startswith("3501") for k in fuzhou)
    assert [s.key for s in registry.select("3501").sites] == fuzhou
    assert [s.key for s in registry.select("闽侯县").sites] == ["350121"]
    assert [s.key for s in registry.select("北京市西城区").sites] == ["110102"]
    # A unit without a code is below its parent, by name and by the parent's code prefix.
    assert "232700-jgdq" in [s.key for s in registry.select("2327").sites]
    # An ambiguous name names several places; the full name one.
    assert registry.select("朝阳区").places == ["110105 北京市朝阳区", "220104 吉林省长春市朝阳区"]
    assert [s.key for s in registry.select("吉林省长春市朝阳区").sites] == ["220104"]
    assert registry.select("济源市").sites[0].key == "419001"  # the 民政部 name of 济源示范区
    assert registry.select("福建").sites == [] and "福建省" in registry.suggest("福建")


def test_a_users_file_overrides_bundled_entries_by_key_and_division_code(tmp_path: Path):
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump({"sites": [
        {"name": "西城区（我的）", "key": "xc", "division_code": "110102", "start_urls": ["http://127.0.0.1:9/"]},
        {"name": "海淀区（我的）", "key": "110108", "start_urls": ["http://127.0.0.1:10/"]},
        {"name": "演示", "key": "shanghai", "start_urls": ["http://127.0.0.1:11/"]},
    ]}, allow_unicode=True), encoding="utf-8")
    registry = load_registry(path)
    assert registry.default == ["xc", "110108", "shanghai"]
    # The division code and the old alias now name the user's entry, which keeps its key and gets its place.
    assert registry.get("110102").key == "xc" and registry.get("bjxch").key == "xc"
    assert registry.get("xc").province == "北京市" and registry.get("xc").level == "county"
    assert registry.get("110108").start_urls == ("http://127.0.0.1:10/",)
    assert registry.get("110108").division_code == "110108"
    # A key equal to an alias takes it over; the bundled 310000 is still there under its code.
    assert registry.get("shanghai").name == "演示" and registry.get("310000").name == "上海市人民政府"
    beijing = [s.key for s in registry.select("北京市").sites]
    assert len(beijing) == 17 and "xc" in beijing and "110102" not in beijing


def test_a_file_with_bundled_false_stands_alone(tmp_path: Path):
    path = tmp_path / "alone.yaml"
    path.write_text(yaml.safe_dump({"bundled": False, "sites": [
        {"name": "甲", "key": "a", "division_code": 110102, "start_urls": ["http://127.0.0.1:9/"]},
        {"name": "乙", "key": "b", "division_code": "350128", "start_urls": ["http://127.0.0.1:10/"]},
    ]}, allow_unicode=True), encoding="utf-8")
    registry = load_registry(path)
    assert set(registry.sites) == {"a", "b"} and registry.get("bjxch") is None
    assert [s.key for s in registry.select("北京市").sites] == ["a"]
    assert [s.key for s in registry.select("福州市").sites] == ["b"]


@pytest.mark.parametrize(("entry", "message"), [
    ({"division_code": "11010"}, "`division_code` '11010' must be the six digits"),
    ({"level": "city"}, "`level` 'city' must be one of province, prefecture, county"),
    ({"province": ""}, "`province` must be a place name"),
])
def test_invalid_division_fields_are_explained(entry, message):
    with pytest.raises(SitesError, match="site #1") as err:
        parse_sites({"sites": [{"name": "x", "start_urls": ["https://a.gov.cn/"], **entry}]}, "f.yaml")
    assert message in str(err.value)


def test_cli_sites_region_beijing_lists_the_city_and_its_16_districts():
    res = run_cli("sites", "--region", "北京市")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].startswith("北京市: 17 site(s) (1 province, 16 county)")
    listed = {line.split()[0]: line.split()[2] for line in lines[1:]}
    assert listed == BEIJING
    assert "alias=bjxch" in res.stdout and "https://www.bjxch.gov.cn/" in res.stdout
    counties = run_cli("sites", "--region", "北京市", "--level", "county")
    assert {line.split()[0] for line in counties.stdout.splitlines()[1:]} == set(BEIJING) - {"110000"}


def test_cli_sites_fujian_marks_what_is_not_crawlable_and_unknown_regions_exit_2():
    res = run_cli("sites", "--region", "福建省")
    assert res.returncode == 0, res.stderr
    assert "94 site(s) (1 province, 9 prefecture, 84 county), 1 not crawlable" in res.stdout
    assert "350527" in res.stdout and "NOT CRAWLABLE: no portal URL" in res.stdout
    bad = run_cli("sites", "--region", "福建")
    assert bad.returncode == 2 and "did you mean 福建省" in bad.stderr
