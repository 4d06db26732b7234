"""Datasette front end of the archive: metadata and canned queries (metadata.yml), the plugin (plugin.py) with the
report, change, coverage and archived-capture pages under /-/nianbao/, and read-only snapshots (snapshot.py)."""
