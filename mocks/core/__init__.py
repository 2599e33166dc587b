"""API-independent machinery: state, clock, seeds, errors, contracts, journal, middleware.

Nothing in this package knows about a particular API.
"""
