"""The app factory: ``create_app(config)`` mounts each API's blueprint at its prefix.

Adding an API means adding its package and one entry in ``mocks.registry.PACKAGES``.
"""
from __future__ import annotations

import importlib
import os
from typing import Any, Callable

from flask import Flask
from werkzeug.routing import Rule

from mocks import registry
from mocks.core import control, edge, fastpath
from mocks.core.cache import ResponseCache
from mocks.core.config import SandboxConfig
from mocks.core.gateway import Gateway
from mocks.core.sandbox import Sandbox
from mocks.core.store import Store

#: the APIs live in one registry (mocks.registry); these names stay for existing callers
API_MODULES = registry.PACKAGES
installed_apis = registry.installed
load_apis = registry.load


class LazyRule(Rule):
    """Werkzeug's rule with its URL builders compiled on first use (``url_for``) instead of when
    the rule is added: writing and compiling Python source for two builders per rule was a
    fifth of building the app, and the sandbox builds few URLs."""

    def _compile_builder(self, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        compiled: list[Callable[..., tuple[str, str]]] = []

        def build(rule: Rule, *args: Any, **kwargs: Any) -> tuple[str, str]:
            if not compiled:
                compiled.append(Rule._compile_builder(rule, append_unknown))
            return compiled[0](rule, *args, **kwargs)

        return build


def create_app(config: SandboxConfig | dict[str, Any] | None = None, store: Store | None = None,
               progress: Callable[[str, str, int, int], None] | None = None,
               apis: list[Api] | None = None, seed: bool = True, start: bool = True) -> Flask:
    """``apis``: Api objects to mount instead of the registered ones named by ``config.apis``
    (the drift proxy mounts an Api that forwards to the real service).

    ``seed=False``: do not seed the built-in tenants here (``serve`` seeds them in a child process
    when ``Sandbox.unseeded()`` names any). ``start=False``: start no background thread (the
    scheduler, the warm-up): ``serve`` builds the app once in gunicorn's master and each worker
    starts its own after the fork (``Sandbox.after_fork``)."""
    cfg = SandboxConfig.coerce(config)
    apis = apis if apis is not None else load_apis(cfg.apis)
    if cfg.root_api and cfg.root_api not in {a.name for a in apis}:
        raise ValueError(f"--root-api {cfg.root_api} is not among the mounted APIs")
    app = Flask("commerce_sandbox")
    app.url_rule_class = LazyRule
    app.config.update(MAX_CONTENT_LENGTH=cfg.max_body_bytes, TESTING=cfg.testing)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.url_map.strict_slashes = False
    sandbox = Sandbox(cfg, apis, store)
    app.extensions["sandbox"] = sandbox
    if cfg.response_cache_mb > 0:
        app.extensions["response_cache"] = ResponseCache(store=sandbox.store, max_bytes=cfg.response_cache_mb << 20)
    gateway = Gateway(app, sandbox)
    app.extensions["gateway"] = gateway
    fastpath.install(app, gateway)  # in front of Flask, behind the edge's size limits
    edge.install(app, sandbox)  # size limits, text checks, 405/OPTIONS, one transaction per request
    app.register_blueprint(control.build(), url_prefix="/__sandbox")
    app.register_blueprint(importlib.import_module("mocks.console").build(), url_prefix="/__sandbox/ui")
    for api in apis:
        gateway.mount(api, api.prefix, api.name)
        extra = api.control_blueprint()
        if extra is not None:
            extra.before_request(control.guard)
            app.register_blueprint(extra, url_prefix=f"/__sandbox/{api.name}", name=f"sandbox_control_{api.name}")
    if cfg.root_api:
        root = next(a for a in apis if a.name == cfg.root_api)
        gateway.mount(root, "", f"{root.name}__root")
    if seed:
        sandbox.seed_all(progress)

    @app.after_request
    def worker_header(response):  # which worker answered: lets tests and users see the spread
        response.headers["X-Sandbox-Worker"] = str(os.getpid())
        return response

    if start:
        sandbox.start()
    return app
