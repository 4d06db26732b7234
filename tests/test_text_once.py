"""A report version's text is stored once (issue 16 item 2): its sections are kept as offsets into `text`, read back
by one accessor, and databases written before are converted in place."""

from __future__ import annotations

import json

from nianbao.portal import catalog
from pipelines import database, store
from pipelines.extract import extract_document
from pipelines.versions import content_of, pack_sections, sections_of


def _demo_content():
    report = next(r for r in catalog.reports(1) if r.site == "xicheng" and r.year == 2020 and r.template == "2019")
    return content_of(extract_document(catalog.body_html(report, 1).encode("utf-8"), filename="r.html"), None)


def test_sections_are_offsets_into_the_text_and_read_back_whole():
    content = _demo_content()
    assert len(content.sections) == 6
    stored = pack_sections(content.text, content.sections)
    spans = json.loads(stored)
    assert isinstance(spans, list) and [s[0] for s in spans] == list(content.sections)
    assert sections_of(content.text, stored) == content.sections
    assert len(stored) < sum(len(b) for b in content.sections.values()) / 5  # the bodies are not repeated


def test_bodies_not_in_the_text_are_kept_and_bad_values_read_as_nothing():
    sections = {"一、总体情况": "甲乙丙", "二、主动公开": "不在正文里"}
    stored = pack_sections("前言\n一、总体情况\n甲乙丙\n", sections)
    assert json.loads(stored) == sections  # one body missing from the text: all kept as they are
    assert sections_of("whatever", stored) == sections
    assert sections_of("abc", None) == {} and sections_of("abc", "not json") == {}
    assert sections_of("abc", '[["x", 0, 2], ["bad"], ["y", "a", 1]]') == {"x": "ab"}


def test_a_database_written_before_is_converted_in_place(tmp_path):
    content = _demo_content()
    db = database.connect(tmp_path)
    store.upsert_site(db, "xicheng", "北京市西城区人民政府", None, "北京市西城区", ["http://x.invalid/"])
    report_id = db["reports"].insert({"site": "xicheng", "agency": "北京市西城区人民政府", "year": 2020}).last_pk
    old = json.dumps(content.sections, ensure_ascii=False)
    version_id = db["report_versions"].insert({"report_id": report_id, "page_url": "http://x.invalid/r.html",
                                               "text": content.text, "sections": old}).last_pk
    db.execute("PRAGMA user_version = 13")
    db.close()
    db = database.connect(tmp_path)  # migrates
    stored = db.execute("SELECT sections FROM report_versions WHERE id = ?", [version_id]).fetchone()[0]
    assert isinstance(json.loads(stored), list) and len(stored) < len(old) / 5
    assert sections_of(content.text, stored) == content.sections
    db.close()
