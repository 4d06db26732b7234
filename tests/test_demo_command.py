"""`nianbao demo` end to end, twice into one data folder (edition 1, then edition 2), as a newcomer runs it."""

import re
import sqlite3
import subprocess
import sys

import background


def run(*args):
    return subprocess.run([sys.executable, "-m", "nianbao", *args], capture_output=True, text=True, timeout=400)


@background.job("nianbao demo twice")
def demo_twice(tmp):
    """The two demo runs and the check, started with the session (tests/background.py)."""
    data = tmp / "data"
    first = background.nianbao("demo", "--data", str(data))
    second = background.nianbao("demo", "--edition", "2", "--data", str(data)) if first.returncode == 0 else None
    check = background.nianbao("check", "--data", str(data)) if second and second.returncode == 0 else None
    return data, first, second, check


def test_demo_twice_then_check():
    data, first, second, check = demo_twice.result()
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    m = re.search(r"(\d+)/(\d+) reports and (\d+)/(\d+) attachments found, 0 non-report", first.stdout)
    assert m and m.group(1) == m.group(2) and m.group(3) == m.group(4), first.stdout[-2000:]
    assert "nianbao demo --edition 2" in first.stdout

    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert "0 non-report(s) counted as reports" in second.stdout

    db = sqlite3.connect(data / "nianbao.db")
    assert db.execute("SELECT count(*) FROM runs").fetchone()[0] == 2
    titles = {t for (t,) in db.execute("SELECT title FROM reports")}
    assert "北京市西城区人民政府2020年政府信息公开工作年度报告" in titles
    # Both editions' reports are kept: the one removed in edition 2 stays in the archive.
    assert len(titles) == int(m.group(2)) + 1

    assert check.returncode == 0 and "ok" in check.stdout
    assert not list((data / "warc").glob("*.open"))


def test_demo_refuses_ports_in_use(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = run("demo", "--port", str(port), "--data", str(tmp_path / "d"))
    assert out.returncode == 2, out.stdout + out.stderr
    assert "taken" in out.stderr and "--port" in out.stderr
    assert not (tmp_path / "d" / "nianbao.db").exists()


def test_demo_refuses_a_data_folder_of_other_ports(tmp_path):
    data = tmp_path / "d"
    data.mkdir()
    (data / "demo-sites.yaml").write_text(
        "sites:\n- key: xicheng\n  name: 北京市西城区人民政府\n  start_urls:\n  - http://127.0.0.1:9901/\n",
        encoding="utf-8")
    out = run("demo", "--data", str(data))
    assert out.returncode == 2, out.stdout + out.stderr
    assert "9901" in out.stderr and "--data" in out.stderr
    assert not (data / "nianbao.db").exists()
