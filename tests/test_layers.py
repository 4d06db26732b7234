"""The packages import downward only: domain → archive → crawler → pipelines → nianbao (README, "How it is
built"). pipelines/ uses only crawler/items.py of the crawler; the demo portal (nianbao/portal/) imports nothing
of the product. Read with `ast`, so an import inside a function counts too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["domain", "archive", "crawler", "pipelines", "nianbao"]
PORTAL = Path("nianbao", "portal")


def imports(path: Path, root: Path = ROOT) -> list[tuple[int, str]]:
    """(line, absolute module) of every project import in a file (relative imports resolved)."""
    package = list(path.relative_to(root).with_suffix("").parts[:-1])
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            out += [(node.lineno, module)] if node.module else \
                [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return [(line, m) for line, m in out if m.split(".")[0] in LAYERS]


def violations(root: Path = ROOT) -> list[str]:
    found = []
    for layer in LAYERS:
        for path in sorted((root / layer).rglob("*.py")):
            rel = path.relative_to(root)
            in_portal = rel.parts[:2] == PORTAL.parts
            for line, module in imports(path, root):
                target = module.split(".")[0]
                if in_portal:
                    if not module.startswith("nianbao.portal"):
                        found.append(f"{rel}:{line}: the demo portal imports {module}")
                elif module.startswith("nianbao.portal") and layer != "nianbao":
                    found.append(f"{rel}:{line}: {layer}/ imports the demo portal ({module})")
                elif LAYERS.index(target) > LAYERS.index(layer):
                    found.append(f"{rel}:{line}: {layer}/ imports {module}, a layer above it")
                elif layer == "pipelines" and target == "crawler" and module != "crawler.items":
                    found.append(f"{rel}:{line}: pipelines/ imports {module}; only crawler.items is allowed")
    return found


def test_every_import_runs_downward() -> None:
    assert violations() == []


@pytest.mark.parametrize("where, line", [
    ("domain/recognise.py", "from archive import reader"),
    ("archive/reader.py", "import crawler.links"),
    ("crawler/links.py", "from pipelines.database import connect"),
    ("pipelines/versions.py", "from crawler.spiders.base import AnnualReportSpider"),
    ("pipelines/diff.py", "from nianbao import cli"),
    ("nianbao/portal/server.py", "from domain.templates import load"),
])
def test_an_upward_import_is_caught(tmp_path: Path, where: str, line: str) -> None:
    """The file, with one upward import added, alone in a copy of its folder (the rest of the tree is clean:
    test_every_import_runs_downward)."""
    target = tmp_path / where
    target.parent.mkdir(parents=True)
    target.write_text((ROOT / where).read_text(encoding="utf-8") + "\n\ndef _upward():\n    " + line + "\n",
                      encoding="utf-8")
    found = violations(tmp_path)
    assert len(found) == 1 and found[0].startswith(where), found
