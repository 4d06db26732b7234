"""Every distribution the project's packages import is a DIRECT requirement of the installed nianbao.

A module reached only through another package's requirements (lxml.html.clean through jusText's
`lxml[html_clean]`, which older pip cannot match to lxml's `html-clean` extra) is how a plain
`pip install` ends up with a nianbao that extracts nothing. This test reads the source with `ast` and the
installed metadata with `importlib.metadata`, so the next undeclared import fails here, not for a user.

Imports inside `try: … except ImportError:` are optional (the code has a fallback) and are not required. The
other way round, a distribution of an optional extra (`browser`: playwright) must be imported only behind such a
guard, since a plain `pip install nianbao` does not have it.
"""

from __future__ import annotations

import ast
import importlib
import importlib.metadata as md
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("domain", "archive", "crawler", "pipelines", "nianbao")


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(n, ast.Name) and n.id in {"ImportError", "ModuleNotFoundError"} for n in names)


def imported_modules(root: Path, packages: tuple[str, ...], guarded: bool = False) -> dict[str, set[str]]:
    """Top-level names of the modules imported (anywhere, not under an ImportError guard) → files importing them.
    With `guarded`, those imported under an ImportError guard instead."""
    found: dict[str, set[str]] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            tree = ast.parse(path.read_bytes(), filename=str(path))
            optional: set[int] = set()
            for node in ast.walk(tree):
                if isinstance(node, ast.Try) and any(_catches_import_error(h) for h in node.handlers):
                    optional.update(id(inner) for stmt in node.body for inner in ast.walk(stmt))
            for node in ast.walk(tree):
                if (id(node) in optional) != guarded:
                    continue
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(root)))
    return found


def requirement_name(requirement: str) -> str | None:
    """The normalised distribution name of a requirement line, or None when it only applies to an extra."""
    if ";" in requirement and "extra" in requirement.split(";", 1)[1]:
        return None
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return normalise(match.group(1)) if match else None


def extra_requirements(requirements: list[str]) -> dict[str, set[str]]:
    """Extra name -> the normalised distribution names it adds (`playwright>=1.40; extra == "browser"`)."""
    out: dict[str, set[str]] = {}
    for requirement in requirements:
        extra = re.search(r"""extra\s*==\s*["']([^"']+)["']""", requirement)
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
        if extra and match:
            out.setdefault(extra.group(1), set()).add(normalise(match.group(1)))
    return out


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def undeclared_imports(root: Path, packages: tuple[str, ...], requirements: list[str],
                       providers: dict[str, list[str]]) -> dict[str, list[str]]:
    """Imported third-party modules no direct requirement provides: module → the files importing it.

    `providers` maps a top-level module to the distributions installing it (packages_distributions());
    a module no installed distribution provides is undeclared too.
    """
    declared = {name for r in requirements if (name := requirement_name(r))}
    missing = {}
    for module, files in imported_modules(root, packages).items():
        if module in sys.stdlib_module_names or module in packages or module == "__future__":
            continue
        if not {normalise(d) for d in providers.get(module, [])} & declared:
            missing[module] = sorted(files)
    return missing


def test_every_imported_distribution_is_a_direct_requirement() -> None:
    requirements = md.requires("nianbao") or []
    missing = undeclared_imports(ROOT, PACKAGES, requirements, md.packages_distributions())
    assert missing == {}, f"imported but not declared in pyproject.toml dependencies: {missing}"


def test_an_optional_extra_is_imported_only_behind_a_guard() -> None:
    """playwright (extra `browser`, also in `test`) is declared, and every import of it in the project has an
    ImportError fallback: without it the browser step is skipped, nothing else breaks."""
    requirements = md.requires("nianbao") or []
    extras = extra_requirements(requirements)
    assert "playwright" in extras.get("browser", set()) and "playwright" in extras.get("test", set())
    direct = {name for r in requirements if (name := requirement_name(r))}
    providers = md.packages_distributions()
    optional = {normalise(d) for name, members in extras.items() if name != "test" for d in members} - direct
    for module, files in imported_modules(ROOT, PACKAGES).items():
        assert not {normalise(d) for d in providers.get(module, [])} & optional, \
            f"{module} (an optional extra) is imported without an ImportError guard in {sorted(files)}"
    guarded = imported_modules(ROOT, PACKAGES, guarded=True)
    assert "crawler/render.py" in guarded.get("playwright", set())


def test_lxml_html_clean_is_declared_and_lxml_html_clean_imports() -> None:
    """jusText (used by trafilatura) imports lxml.html.clean, a separate distribution since lxml 5.2."""
    declared = {requirement_name(r) for r in md.requires("nianbao") or []}
    assert "lxml-html-clean" in declared
    cleaner = importlib.import_module("lxml.html.clean").Cleaner
    assert "lxml_html_clean" in md.packages_distributions()
    import justext  # noqa: F401 - the import that failed for users

    assert cleaner(javascript=True).clean_html("<p>ok<script>x()</script></p>") == "<p>ok</p>"


def test_installed_metadata_matches_pyproject() -> None:
    """The metadata the first test reads is that of this checkout (else: pip install -e . again)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = {requirement_name(r) for r in project["dependencies"]}
    installed = {name for r in md.requires("nianbao") or [] if (name := requirement_name(r))}
    assert installed == wanted


def test_an_undeclared_import_is_caught(tmp_path: Path) -> None:
    package = tmp_path / "demo_pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("import json\nfrom demo_pkg import sub\n", encoding="utf-8")
    (package / "sub" / "__init__.py").write_text(
        "import lxml.etree\nimport yaml\n\n\ndef clean():\n    import lxml_html_clean\n"
        "    return lxml_html_clean\n\n\ntry:\n    import brotli\nexcept ImportError:\n    brotli = None\n",
        encoding="utf-8")
    providers = md.packages_distributions()
    requirements = ["lxml>=5", "pytest>=8; extra == 'test'", "PyYAML>=6; extra == 'yaml'"]
    missing = undeclared_imports(tmp_path, ("demo_pkg",), requirements, providers)
    # lxml is declared; yaml only under an extra; lxml_html_clean (imported in a function) not at all;
    # brotli is optional (ImportError guard); json is stdlib; demo_pkg is the project itself.
    assert missing == {"lxml_html_clean": ["demo_pkg/sub/__init__.py"], "yaml": ["demo_pkg/sub/__init__.py"]}
    assert undeclared_imports(tmp_path, ("demo_pkg",), ["lxml", "pyyaml", "lxml-html-clean>=0.4"],
                              providers) == {}
    # A distribution that is installed only as a dependency of a declared one does not count.
    assert "lxml_html_clean" in undeclared_imports(tmp_path, ("demo_pkg",), ["lxml", "PyYAML", "jusText"],
                                                   providers)
