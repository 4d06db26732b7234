"""Run digests delivered through Apprise to a real webhook on 127.0.0.1; UTF-8-safe cuts; retries."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pipelines import alert_channels
from pipelines.alerts import (
    CHANNEL_LIMITS,
    Digest,
    build_digest,
    fit_to_limit,
    send_digest,
    should_alert_site_failure,
)
from pipelines.diff import cell_diff, text_diff

COLUMNS = ["natural_person", "commercial_enterprise", "research_institution", "public_welfare_org",
           "legal_service_org", "other_org", "total"]
RUN = {"id": "20261130T100000-ab12", "started": "2026-11-30T10:00:00+08:00", "finished": "2026-11-30T10:20:00+08:00"}
LINK_BASE = "http://127.0.0.1:8001/nianbao"


class Webhook:
    """A local HTTP endpoint recording every POST; `fail_first` answers the first N posts with 500."""

    def __init__(self, fail_first: int = 0) -> None:
        self.posts: list[dict] = []
        self.fail_first = fail_first
        self.seen = 0
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server API
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                hook.seen += 1
                if hook.seen <= hook.fail_first:
                    self.send_response(500)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                hook.posts.append({"path": self.path, "raw": body, "json": json.loads(body)})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.port}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    yield hook
    hook.close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def xicheng_change() -> dict:
    old = [{"table": "table3", "row": "carried_out", "column": c, "value": v, "raw": str(v)}
           for c, v in zip(COLUMNS, [2701, 79, 0, 0, 2, 0, 2782], strict=True)]
    new = [{"table": "table3", "row": "carried_out", "column": c, "value": v, "raw": str(v)}
           for c, v in zip(COLUMNS, [55, 0, 0, 0, 0, 0, 55], strict=True)]
    return {
        "kind": "changed", "site": "bj-xicheng", "agency": "北京市西城区人民政府", "year": 2020,
        "title": "北京市西城区人民政府2020年政府信息公开工作年度报告",
        "url": "http://www.bjxch.gov.cn/xxgk/ndbg/2020.html",
        "cell_diffs": cell_diff(old, new),
        "text_diff": text_diff("四、结转下年度继续办理 2782 件。", "四、结转下年度继续办理 55 件。"),
        "before": "captures/41", "after": "http://127.0.0.1:8001/nianbao/captures/97",
    }


def test_nothing_to_say_builds_no_digest() -> None:
    assert build_digest(RUN, [], [], [], LINK_BASE) is None
    assert build_digest(RUN, [], [], [], None) is None


def test_digest_names_changes_checks_and_failing_sites() -> None:
    new = {"kind": "new", "site": "pingtan", "agency": "平潭综合实验区管委会", "year": 2025,
           "title": "平潭综合实验区2025年度政府信息公开工作年度报告", "url": "https://www.pingtan.gov.cn/a.htm",
           "cell_diffs": [], "text_diff": [], "before": None, "after": "captures/98"}
    digest = build_digest(
        RUN, [new, xicheng_change()],
        [{"title": "北京市西城区人民政府2020年年报", "url": "http://www.bjxch.gov.cn/2020.html", "rule": "T3-R3",
          "detail": "一+二 = 1621 ≠ (七)+四 = 4348"}],
        [{"site": "bj-shunyi", "name": "北京市顺义区人民政府", "consecutive_failed_runs": 3,
          "last_error": "TCPTimedOutError"}],
        LINK_BASE,
    )
    assert isinstance(digest, Digest)
    assert digest.title == "nianbao：本次抓取发现 2 项变化、1 项新不通过的检查、1 个站点连续抓取失败"
    body = digest.body
    assert body.index("修改 changed") < body.index("新增 new")
    assert "表三 四、结转下年度继续办理 × 自然人：2701 → **55**" in body
    assert "表三 四、结转下年度继续办理 × 总计：2782 → **55**" in body
    assert "~~2782~~ **55**" in body
    assert "[变化前 before](http://127.0.0.1:8001/nianbao/captures/41)" in body
    assert "[变化后 after](http://127.0.0.1:8001/nianbao/captures/97)" in body
    assert "**T3-R3**" in body and "北京市顺义区人民政府（bj-shunyi）：连续 3 次运行抓取失败" in body
    assert digest.counts["changed"] == 1 and digest.counts["new"] == 1
    assert digest.link == LINK_BASE


def test_one_digest_arrives_at_the_webhook(webhook: Webhook) -> None:
    digest = build_digest(RUN, [xicheng_change()], [], [], LINK_BASE)
    assert digest is not None
    results = send_digest(digest, [webhook.url], retries=3, backoff=0)
    assert [r["status"] for r in results] == ["sent"]
    assert results[0]["attempts"] == 1 and results[0]["error"] is None
    assert len(webhook.posts) == 1
    post = webhook.posts[0]
    assert post["path"] == "/hook"
    assert post["json"]["title"] == "nianbao：本次抓取发现 1 项变化"
    message = post["json"]["message"]
    assert "四、结转下年度继续办理" in message and "2782" in message and "55" in message
    assert "北京市西城区人民政府2020年政府信息公开工作年度报告" in message
    assert results[0]["message_bytes"] == len(digest.title.encode()) + len(results[0]["body"].encode())


def test_failing_channel_is_retried_and_the_other_still_gets_it(webhook: Webhook) -> None:
    digest = build_digest(RUN, [xicheng_change()], [], [], LINK_BASE)
    dead = f"json://127.0.0.1:{closed_port()}/hook"
    results = send_digest(digest, [dead, webhook.url], retries=3, backoff=0)
    assert results[0]["status"] == "failed" and results[0]["attempts"] == 3 and results[0]["error"]
    assert results[1]["status"] == "sent" and results[1]["attempts"] == 1
    assert len(webhook.posts) == 1


def test_a_server_error_is_retried_until_it_succeeds() -> None:
    hook = Webhook(fail_first=2)
    try:
        digest = build_digest(RUN, [xicheng_change()], [], [], LINK_BASE)
        (result,) = send_digest(digest, [hook.url], retries=3, backoff=0)
        assert result["status"] == "sent" and result["attempts"] == 3
        assert hook.seen == 3 and len(hook.posts) == 1
    finally:
        hook.close()


def test_bad_urls_and_secrets_never_raise_or_leak() -> None:
    digest = Digest(title="t", body="正文")
    (bad,) = send_digest(digest, ["nosuchscheme://whatever"], retries=3, backoff=0)
    assert bad["status"] == "failed" and bad["attempts"] == 1 and bad["error"]
    (secret,) = send_digest(digest, [f"json://user:s3cretpw@127.0.0.1:{closed_port()}/hook"], retries=1, backoff=0)
    assert secret["status"] == "failed" and "s3cretpw" not in secret["channel"]
    assert secret["channel"].startswith("json://user:")


def test_long_digest_is_cut_within_the_channel_limit(webhook: Webhook, monkeypatch: pytest.MonkeyPatch) -> None:
    changes = [dict(xicheng_change(), title=f"第{i}区人民政府2020年政府信息公开工作年度报告") for i in range(40)]
    digest = build_digest(RUN, changes, [], [], LINK_BASE)
    assert len(digest.body.encode()) > 20000
    monkeypatch.setitem(alert_channels.CHANNEL_LIMITS, "json", 2048)
    (result,) = send_digest(digest, [webhook.url], retries=1, backoff=0)
    assert result["status"] == "sent" and result["message_bytes"] <= 2048
    message = webhook.posts[0]["json"]["message"]
    assert len(message.encode()) + len(webhook.posts[0]["json"]["title"].encode()) <= 2048
    assert message.endswith(f"…（内容过长已截断，全文：{LINK_BASE}）")


def test_channel_limits_are_bytes_for_the_known_schemes() -> None:
    assert CHANNEL_LIMITS["wecombot"] <= 2048  # Apprise sends WeCom msgtype "text": 2048 bytes
    assert CHANNEL_LIMITS["dingtalk"] <= 20000 and CHANNEL_LIMITS["feishu"] <= 20000
    assert CHANNEL_LIMITS["json"] >= 100000 and CHANNEL_LIMITS["mailto"] >= 100000
    assert alert_channels.channel_limit("WeComBot://key") == CHANNEL_LIMITS["wecombot"]


LONG = ("2025年，平潭综合实验区共收到政府信息公开申请154件，办结148件 🙂；"
        "结转下年度6件。Résumé ✓ 行政复议36起。\n") * 12


def test_fit_to_limit_never_splits_a_character_and_stays_within_the_limit() -> None:
    data = LONG.encode("utf-8")
    link = "http://127.0.0.1:8001/nianbao/changes?run_id=1"
    for limit in range(0, len(data) + 8):
        for target in (link, None):
            out = fit_to_limit(LONG, limit, target)
            encoded = out.encode("utf-8")
            assert len(encoded) <= limit, (limit, target)
            assert encoded.decode("utf-8") == out
            if limit >= len(data):
                assert out == LONG
                continue
            marker = "\n\n" + (f"…（内容过长已截断，全文：{target}）" if target else "…（内容过长已截断）")
            if out.endswith(marker):
                assert LONG.startswith(out[: -len(marker)])
            else:  # no room for the body: the marker alone, or as much of it as fits
                assert marker.lstrip("\n").startswith(out)
                assert limit <= len(marker.encode())


def test_fit_to_limit_prefers_a_line_end() -> None:
    out = fit_to_limit(LONG, 1000, "http://x/")
    kept = out.split("\n\n…（内容过长已截断")[0]
    assert kept.endswith("起。") and len(out.encode()) <= 1000


def test_site_failures_alert_at_the_threshold_then_as_reminders() -> None:
    assert [n for n in range(1, 30) if should_alert_site_failure(n, threshold=3, remind_every=10)] == [3, 13, 23]


def test_a_failed_channel_records_the_reason_apprise_logged() -> None:
    """Apprise logs levels by name ("WARNING"); the reason it logs (not a bare "delivery failed") is kept."""
    digest = Digest(title="t", body="正文")
    refused_port = closed_port()
    (refused,) = send_digest(digest, [f"json://127.0.0.1:{refused_port}/hook/s3cretpath?key=s3cretkey"],
                             retries=1, backoff=0)
    assert refused["status"] == "failed"
    assert "delivery failed" not in refused["error"]
    assert "A Connection error occurred sending JSON notification to 127.0.0.1" in refused["error"]
    assert "Connection refused" in refused["error"]  # the socket's own cause, from Apprise's DEBUG line
    assert "s3cret" not in refused["error"]  # URL paths and queries (tokens) are not copied into the reason

    hook = Webhook(fail_first=10**6)  # answers every post with 500
    try:
        (server_error,) = send_digest(digest, [hook.url], retries=2, backoff=0)
    finally:
        hook.close()
    assert server_error["status"] == "failed" and server_error["attempts"] == 2 and hook.seen == 2
    assert "error=500" in server_error["error"] and "delivery failed" not in server_error["error"]


def test_the_alerts_row_stores_the_real_reason(tmp_path) -> None:
    from pipelines.database import connect
    from pipelines.notify import notify_run

    db = connect(tmp_path)
    failing = [{"site": "bj-shunyi", "name": "北京市顺义区人民政府", "column_found": False, "pages": 0,
                "error_list": [{"error": "TCPTimedOutError"}]}]
    for n in range(3):  # three failed runs in a row: a site-failure digest is due
        db["runs"].insert({"id": f"run-{n}", "started": f"2026-12-0{n + 1}T10:00:00+08:00",
                           "summary": json.dumps(failing)})
    hook = Webhook(fail_first=10**6)
    try:
        results = notify_run(db, {"id": "run-2", "started": "2026-12-03T10:00:00+08:00"},
                             [hook.url, f"json://127.0.0.1:{closed_port()}/hook"])
    finally:
        hook.close()
    assert [r["status"] for r in results] == ["failed", "failed"]
    rows = list(db.query("SELECT channel, status, attempts, error FROM alerts ORDER BY id"))
    assert [r["status"] for r in rows] == ["failed", "failed"]
    assert "error=500" in rows[0]["error"]
    assert "Connection refused" in rows[1]["error"]
    assert all("delivery failed" not in r["error"] for r in rows)
