"""Amazon SP-API reads through the Reports API (FAQ, Amazon SP-API, "Important details").

"Sometimes you may get the API2Cart response with an error "Report is not ready yet, please try
again later (report_request_id=XXXXXXXXXXXX)" ... when requesting "product.list" or
"product.info", API2Cart requests a report and waits for its result, the maximum waiting time is
15 seconds ... wait 1-5 minutes and try to repeat the request with the same parameters. Reports
are cached on our side for 15 minutes. If you pass the parameter disable_report_cache=true, the
cache is not used."

The sandbox's reading (docs/api2cart.md, fidelity decisions):

- the methods are the emulated ones the official document gives ``report_request_id`` and
  ``disable_report_cache``: ``product.list|info|count``, ``category.list|info|count``,
  ``return.list|count``; only on an ``AmazonSP`` store;
- a request asks for a report of its method and filters (paging and field selection are not part
  of it: one report serves every page); the report is ready ``delay`` seconds of the store's
  sandbox clock after it was requested. ``delay`` is 0 unless a scenario's
  ``api_action: {name: amazon_report_delay, seconds: N}`` fired for the request (or the api option
  ``amazon_report_delay_seconds`` says otherwise), so by default every report is ready at once;
- a report ready within the 15 s wait is answered in the same request (the sandbox does not sleep
  them); otherwise the answer is return_code 107 (the vendor's captured answer) with the message
  above and the report's id (the Amazon marketplace id + 12 digits, as captured);
- the same method and filters again reuse the report while it is pending and for 15 minutes after
  it became ready; ``report_request_id`` names one (an id this store did not issue for this method,
  or one past its 15 minutes, is ignored, as the vendor answered its own example id);
  ``disable_report_cache=true`` always requests a new report and leaves the cache as it was (the
  new report is fetched by its ``report_request_id``).

A report gates the answer: the data answered is the store's current data (a snapshot would cost as
much as the catalogue). Models never import Flask; the route asks :meth:`Reports.check` first.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

from mocks.api2cart import errors as X
from mocks.api2cart.models.params import Params
from mocks.core.state import TenantState

#: the emulated methods the official document gives report_request_id and disable_report_cache
REPORT_METHODS = frozenset({"product.list", "product.info", "product.count", "category.list", "category.info",
                            "category.count", "return.list", "return.count"})
REPORT_CARTS = frozenset({"AmazonSP"})
#: parameters that page or shape the answer: not part of which report a request needs
NOT_IN_KEY = frozenset({"report_request_id", "disable_report_cache", "start", "count", "page_cursor", "params",
                        "exclude", "response_fields"})
WAIT_S = 15.0     # "the maximum waiting time is 15 seconds"
CACHE_S = 900.0   # "Reports are cached on our side for 15 minutes"
#: amazon_sp_aws_region -> the marketplace id report ids start with (the FAQ's regions table:
#: North America, Europe, Far East; one marketplace each: US, UK, Japan)
MARKETPLACES = {"us-east-1": "ATVPDKIKX0DER", "eu-west-1": "A1F83G8C2ARO7P", "us-west-2": "A1VC38T7YXB528"}


def not_ready(report_id: str) -> X.A2CError:
    return X.A2CError(107, f"Report is not ready yet, please try again later (report_request_id={report_id})")


def uses_reports(store: dict[str, Any] | None, method: str) -> bool:
    return store is not None and store.get("cart_id") in REPORT_CARTS and method in REPORT_METHODS


class Reports:
    """One Amazon SP-API store's reports (``reports``: id -> report) and its cache (``report_cache``:
    method and filters -> report id)."""

    def __init__(self, state: TenantState, store: dict[str, Any]) -> None:
        self.state = state
        self.store = store
        self.reports = state.collection("reports")
        self.cache = state.collection("report_cache")

    @staticmethod
    def key(method: str, p: Params) -> str:
        filters = sorted((k, v) for k, v in p.data.items() if k not in NOT_IN_KEY)
        return hashlib.sha256(json.dumps([method, filters], default=str, sort_keys=True).encode()).hexdigest()[:32]

    def check(self, method: str, p: Params, delay: float) -> X.A2CError | None:
        """None when this request's report is ready (answer the data), else the 107 to answer. A
        new report is written either way, so the 107 is an answer, not a failure to roll back."""
        now = self.state.now()
        named = p.str("report_request_id")
        if named:
            report = self.reports.lookup(named)
            if report is not None and report["method"] == method and self._live(report, now):
                return self._answer(report, now)
        key = self.key(method, p)
        use_cache = not p.bool("disable_report_cache", False)
        if use_cache:
            entry = self.cache.lookup(key)
            report = self.reports.lookup(entry["id"]) if entry is not None else None
            if report is not None and self._live(report, now):
                return self._answer(report, now)
        report = self._request(method, key, now, max(float(delay), 0.0), cache=use_cache)
        return self._answer(report, now)

    @staticmethod
    def _live(report: dict[str, Any], now: float) -> bool:
        return now < report["ready_at"] + CACHE_S

    @staticmethod
    def _answer(report: dict[str, Any], now: float) -> X.A2CError | None:
        if now + 1e-9 >= report["ready_at"] or report["ready_at"] - report["requested_at"] <= WAIT_S:
            return None
        return not_ready(report["id"])

    def _request(self, method: str, key: str, now: float, delay: float, cache: bool) -> dict[str, Any]:
        self._forget(now)
        seq = self.state.next_id("report")
        digits = int(hashlib.sha256(f"{self.store['tenant']}:{seq}".encode()).hexdigest(), 16) % 10 ** 12
        region = str((self.store.get("credentials") or {}).get("amazon_sp_aws_region") or "us-east-1").lower()
        report = {"id": f"{MARKETPLACES.get(region, MARKETPLACES['us-east-1'])}{digits:012d}", "method": method,
                  "key": key, "requested_at": now, "ready_at": now + delay}
        self.reports.put(report["id"], report)
        if cache:  # disable_report_cache=true: "the cache is not used", neither read nor filled
            self.cache.put(key, {"id": report["id"]})
        return report

    def _forget(self, now: float) -> None:
        """Reports past their 15 minutes leave the cache (the collection stays as small as the traffic
        of the last quarter of an hour)."""
        for report in self.reports.values():
            if not self._live(report, now):
                self.reports.delete(report["id"])
                entry = self.cache.lookup(report["key"])
                if entry is not None and entry["id"] == report["id"]:
                    self.cache.delete(report["key"])
