"""What a spider may know from earlier runs, as an interface the runner provides (the crawler never reads the
database itself): the known report pages its column no longer lists, the attachments of a known report, and the
list APIs a browser render found behind a column (crawler/discovery.py), so later runs need no browser.
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

    def learned_endpoints(self, site: str) -> list[dict]:
        """The list APIs learned for `site`'s columns: dicts with column_url, method, url, body, headers (JSON)."""
        ...

    def learn_endpoint(self, site: str, endpoint: dict) -> None:
        """Record (or refresh) a list API: the keys of `learned_endpoints` and `entries`, the reports its answer
        listed (0: it lists none any more, and is not returned again)."""
        ...


class NoHistory:
    def unlisted_reports(self, site: str) -> list[str]:
        return []

    def attachments_of(self, report_url: str) -> list[str]:
        return []

    def learned_endpoints(self, site: str) -> list[dict]:
        return []

    def learn_endpoint(self, site: str, endpoint: dict) -> None:
        pass
