"""Benchmarks of commerce-sandbox against its limit (bare Flask) and its peers (WireMock, Prism).

Run with ``make bench`` or ``python -m bench --help``; see ``docs/bench.md``.
"""
