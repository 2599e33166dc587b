"""Scenarios: seeded, ordered fault rules that QA can replay exactly.

- :mod:`.loader`    scenario files: loading, validation (``scenarios/*.yaml``, ``POST /__sandbox/scenarios``)
- :mod:`.engine`    activations in the store, evaluation per request, applying a rule's action
- :mod:`.matchers`  ``match``: does a rule apply to this request (and if not, why)
- :mod:`.triggers`  ``when``: does a matching request fire the rule (nth, every, probability, rate, ...)
- :mod:`.actions`   delays, malformed/dribbled bodies, dropped connections

This package's own namespace is the loader's (``from mocks.core import scenarios as S``;
``S.get(name)``, ``S.ScenarioError``); the engine is ``mocks.core.scenarios.engine.Faults``.
"""
from mocks.core.scenarios.loader import (ScenarioError, check_rule, clashes, get, library, load_file, names, parse,
                                          sources, validate)

__all__ = ["ScenarioError", "check_rule", "clashes", "get", "library", "load_file", "names", "parse", "sources",
           "validate"]
