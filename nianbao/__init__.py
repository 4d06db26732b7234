"""nianbao: crawler and evidence-grade archive of Chinese government 年报.

The Python API (nianbao/api.py): `nianbao.Archive(data_dir)` reads an archive, `nianbao.crawl(sites, data_dir)`
runs a crawl, `nianbao.select_sites(region="福建省")` picks sites of the bundled registry by place, `nianbao.probe(...)`
checks which home pages answer. Imported on first use, so `import nianbao` stays light.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("nianbao")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["Archive", "ArchiveNotFound", "crawl", "probe", "select_sites", "__version__"]


def __getattr__(name: str):
    if name in ("Archive", "ArchiveNotFound", "crawl", "probe", "select_sites"):
        from nianbao import api

        return getattr(api, name)
    raise AttributeError(f"module 'nianbao' has no attribute {name!r}")
