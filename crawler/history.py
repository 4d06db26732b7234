"""What a spider may know from earlier runs, as an interface the runner provides (the crawler never reads the
database itself): the known report pages its column no longer lists, and the attachments of a known report.
`nianbao.runner` passes pipelines.state.DatabaseHistory; a spider run without one (plain `scrapy crawl`) knows
nothing of earlier runs and re-checks nothing."""

from __future__ import annotations

from typing import Protocol


class History(Protocol):
    def unlisted_reports(self, site: str) -> list[str]:
        """Report pages and files of `site` archived before and not seen in this run so far (nor known gone)."""
        ...

    def attachments_of(self, report_url: str) -> list[str]:
        """The attachments recorded for the report that `report_url` belongs to."""
        ...


class NoHistory:
    def unlisted_reports(self, site: str) -> list[str]:
        return []

    def attachments_of(self, report_url: str) -> list[str]:
        return []
