"""Drift: how far the sandbox is from the real service, measured on the user's own traffic.

* :mod:`mocks.drift.proxy`   ``commerce-sandbox proxy``: the sandbox's request chain in front of the
  real service; forwards every request unchanged, checks both directions against the contract and
  records each exchange (secrets masked) as a session;
* :mod:`mocks.drift.diff`    ``commerce-sandbox diff``: replays a session against a target and reports,
  per operation, where the answers differ (status, error codes, shape, headers) with a fidelity score;
* :mod:`mocks.drift.seed`    ``commerce-sandbox seed-from``: loads the records a session's responses
  carried into a running sandbox as one tenant's data;
* :mod:`mocks.drift.session` reading session files (JSON export or HAR) and the replay pieces they share.
"""
