"""What every contract suite shares: the in-process app, the checks, Hypothesis settings, the pair of
schemas (positive and negative data), header credentials and the stateful phase.

A suite module (``test_{api}_contract.py``) keeps only what is particular to its API (credentials,
checks the vendor's design needs, operations left out). Each suite runs schemathesis in-process
against ``contract_app(api)`` with seed 1. ``CONTRACT_DEEP=1`` (``make contract-deep``) runs many
more examples. Every test of these suites also fails if the sandbox recorded a response that broke
its own schema (the gateway's violations log), and so does every stateful run.
"""
from __future__ import annotations

import os
from typing import Any, Callable

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    not_a_server_error,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode

from mocks import create_app
from tests.conftest import assert_no_response_violations

DEEP = os.environ.get("CONTRACT_DEEP") == "1"
#: the checks the contract promises (a suite may adapt them to its vendor's design)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection, positive_data_acceptance, ignored_auth]
WITHOUT_ACCEPTANCE = [c for c in CHECKS if c is not positive_data_acceptance]

_APPS: dict[str, Any] = {}


def contract_app(api: str, options: dict[str, Any] | None = None) -> Any:
    """The app a suite runs against: only ``api`` mounted, memory state, seed 1, no background sender
    (webhook subscriptions to generated callback URLs send nothing). Checkpointed when built, so the
    stateful phase can start every run from the just-built state."""
    app = _APPS.get(api)
    if app is None:
        app = _APPS[api] = create_app({"state": "memory", "testing": True, "seed": 1, "apis": [api],
                                       "options": {api: options} if options else {}})
        app.extensions["sandbox"].checkpoint()
    return app


def examples(fast: int, deep: int) -> settings:
    """Hypothesis settings of a suite's data-driven tests: ``fast`` examples per operation, ``deep`` with
    CONTRACT_DEEP; derandomized, so a run is the same every time."""
    return settings(max_examples=deep if DEEP else fast, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))


def stateful_settings(fast: int, deep: int, steps: int, deep_steps: int | None = None,
                      derandomize: bool = False) -> settings:
    return settings(max_examples=deep if DEEP else fast, stateful_step_count=(deep_steps or steps) if DEEP else steps,
                    deadline=None, database=None, derandomize=derandomize, suppress_health_check=list(HealthCheck))


def header_auth(header: str, value: str, prefix: str = "") -> type:
    """An auth class for one credential header (``prefix`` e.g. ``"Bearer "``); ignored_auth probes
    without it and with a wrong value."""

    class HeaderAuth:
        def get(self, case: Any, ctx: Any) -> str:
            return value

        def set(self, case: Any, data: str, ctx: Any) -> None:
            case.headers = {**(case.headers or {}), header: prefix + data}

    HeaderAuth.__name__ = HeaderAuth.__qualname__ = f"{header.replace('-', '')}Auth"
    return HeaderAuth


def load_schemas(app: Any, api: str, auth: type, *, positive_document: dict[str, Any] | None = None,
                 refresh_interval: int | None | str = "default") -> tuple[Any, Any]:
    """``(positive, negative)``: the API's served OpenAPI document twice, one generating positive data,
    the other negative (positive data holds no NUL character); unknown query parameters are not generated (the sandbox, like the real APIs,
    ignores them: not a violation); both send the suite's credentials. ``positive_document`` replaces
    the served document for positive data (the app still answers)."""
    location = f"/{api}/openapi.json"
    if positive_document is None:
        positive = schemathesis.openapi.from_wsgi(location, app)
    else:
        positive = schemathesis.openapi.from_dict(positive_document)
        positive.app, positive.location = app, location
    negative = schemathesis.openapi.from_wsgi(location, app)
    # NUL is text no store can hold: every API answers it with a 400 naming the field (the APIs'
    # "Fidelity decisions"), so positive data does not send it (tests/reliability covers the 400)
    positive.config.generation.update(modes=[GenerationMode.POSITIVE], allow_x00=False)
    negative.config.generation.update(modes=[GenerationMode.NEGATIVE])
    for s in (positive, negative):
        s.config.generation.update(allow_extra_parameters=False)
        if refresh_interval == "default":
            s.auth()(auth)
        else:
            s.auth(refresh_interval=refresh_interval)(auth)
    return positive, negative


def stateful(schema: Any, app: Any, validate: Callable[[Any, Any], Any], settings: settings,
             after_restore: Callable[[], Any] | None = None) -> type:
    """The stateful phase through the OpenAPI links, as a TestCase class. Every run starts from the
    just-built state (``Sandbox.restore``), so Hypothesis can replay a run exactly; before that the
    previous run must have left no response violation behind."""
    machine = schema.as_state_machine()
    machine.validate_response = lambda self, response, case, **kw: validate(case, response)

    def setup(self: Any) -> None:
        assert_no_response_violations(app)
        app.extensions["sandbox"].restore()
        if after_restore is not None:
            after_restore()

    machine.setup = setup
    return type("TestStateful", (machine.TestCase,), {"settings": settings})


@pytest.fixture(autouse=True)
def no_response_violations(request: pytest.FixtureRequest) -> Any:
    """After every test of a suite: the gateway recorded no response that broke the schema."""
    yield
    app = getattr(request.module, "APP", None)
    if app is not None:
        assert_no_response_violations(app)
