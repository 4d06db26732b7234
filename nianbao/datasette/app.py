"""Build the Datasette instance that `nianbao serve` runs (and the tests drive with `ds.client`)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import yaml
from datasette import database as ds_database
from datasette.app import Datasette
from datasette.database import Database
from datasette.plugins import pm

HERE = Path(__file__).resolve().parent
DB_NAME = "nianbao"
BASE_PATH = "/-/nianbao"  # the plugin's pages: report/{version_id}, change/{id}, changes, coverage, capture/{uuid}

# Plugins that write to a database: `nianbao serve` refuses to start next to them (it serves read-only).
WRITE_PLUGINS = ("datasette-write", "datasette-insert", "datasette-upload-csvs", "datasette-edit-schema",
                 "datasette-edit-templates", "datasette-import", "datasette-write-ui", "datasette-configure-fts",
                 "datasette-auth-tokens", "datasette-enrichments")


def load_metadata() -> dict[str, Any]:
    from pipelines.views import datasette_columns

    metadata = yaml.safe_load((HERE / "metadata.yml").read_text(encoding="utf-8"))
    tables = metadata.setdefault("databases", {}).setdefault(DB_NAME, {}).setdefault("tables", {})
    for view, described in datasette_columns().items():  # the export's views: one column per template cell
        tables.setdefault(view, described)
    return metadata


class SnapshotDatabase(Database):
    """An immutable database whose per-thread connections are keyed by file, so that a new snapshot swapped in
    under the same name is never read through a connection to the previous file."""

    async def execute_fn(self, fn):
        if self.ds.executor is None:
            return await super().execute_fn(fn)
        key = f"nianbao-snapshot:{self.path}"
        prefix = "nianbao-snapshot:"

        def in_thread():
            conn = getattr(ds_database.connections, key, None)
            if not conn:
                local = ds_database.connections.__dict__
                for stale in [k for k in local if k.startswith(prefix) and k != key]:
                    try:
                        local.pop(stale).close()
                    except Exception:  # noqa: BLE001 - a connection that cannot close is dropped anyway
                        pass
                conn = self.connect()
                self.ds._prepare_connection(conn, self.name)
                setattr(ds_database.connections, key, conn)
            return fn(conn)

        return await asyncio.get_event_loop().run_in_executor(self.ds.executor, in_thread)


def register_plugin() -> None:
    from nianbao.datasette import plugin

    if pm.get_plugin("nianbao") is None:
        pm.register(plugin, name="nianbao")


def installed_write_plugins() -> list[str]:
    names = {str(getattr(p, "__name__", "")).replace("_", "-") for p in pm.get_plugins()}
    names |= {str(name).replace("_", "-") for name, _ in pm.list_name_plugin()}
    return sorted(n for n in names if n in WRITE_PLUGINS)


def build_datasette(db_path: str | Path, data_dir: str | Path, *, base_url: str | None = None,
                    settings: dict[str, Any] | None = None) -> Datasette:
    """A Datasette serving `db_path` (an immutable snapshot) as "nianbao", with the project's metadata, canned
    queries, templates and plugin. `data_dir` is where the WARC files are (`<data>/warc`); `base_url` is the
    public URL of the plugin pages for feed links (default: from the request, e.g. http://host:port/-/nianbao)."""
    register_plugin()
    metadata = load_metadata()
    metadata.setdefault("plugins", {})["nianbao"] = {
        "data_dir": str(Path(data_dir).resolve()),
        "base_url": base_url.rstrip("/") if base_url else None,
    }
    ds = Datasette(
        files=[],
        metadata=metadata,
        template_dir=str(HERE / "templates"),
        static_mounts=[("nianbao-static", str(HERE / "static"))],
        settings={"default_page_size": 100, "sql_time_limit_ms": 3000, "facet_time_limit_ms": 500,
                  **(settings or {})},
    )
    if "_memory" in ds.databases:
        ds.remove_database("_memory")
    swap_database(ds, db_path)
    return ds


_swap_lock = threading.Lock()


def swap_database(ds: Datasette, db_path: str | Path) -> None:
    """Serve `db_path` as "nianbao" from now on (requests already running finish on the previous file)."""
    db = SnapshotDatabase(ds, path=str(db_path), is_mutable=False)
    db.name = db.route = DB_NAME
    with _swap_lock:
        ds.databases = {**ds.databases, DB_NAME: db}  # one assignment: no request sees a half-built dict
