"""Fixtures for PrintXpand: an app with only this API mounted, its demo credentials, and a
``call`` helper that signs exactly as a client using requests-oauthlib's ``OAuth1`` would."""
from __future__ import annotations

from typing import Any, Callable

import pytest
import requests
from requests_oauthlib import OAuth1

HOST = "http://localhost"


@pytest.fixture
def app(shared_app: Any) -> Any:
    return shared_app(apis=["printxpand"])


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def consumers(client: Any) -> list[dict[str, Any]]:
    return client.get("/__sandbox/credentials").json["printxpand"]["consumers"]


@pytest.fixture
def creds(consumers: list[dict[str, Any]]) -> dict[str, Any]:
    return consumers[0]


def prepare(method: str, url: str, auth: Any, json_body: Any = None, data: Any = None, params: Any = None) -> Any:
    return requests.Request(method, HOST + url, json=json_body, data=data, params=params, auth=auth).prepare()


def send(client: Any, prepared: Any) -> Any:
    """Replay a prepared requests request through the Flask test client, byte for byte."""
    headers = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in prepared.headers.items()}
    path = prepared.url[len(HOST):]
    return client.open(path, method=prepared.method, headers=headers, data=prepared.body)


def oauth1(creds: dict[str, Any], **kw: Any) -> OAuth1:
    return OAuth1(creds["consumer_key"], creds["consumer_secret"], creds["access_token"],
                  creds["access_token_secret"], **kw)


@pytest.fixture
def call(client: Any, creds: dict[str, Any]) -> Callable[..., Any]:
    """call(method, path, json_body, creds=None, **OAuth1 options) -> response (signed OAuth 1.0a)."""
    def do(method: str, path: str, json_body: Any = None, who: dict[str, Any] | None = None, **kw: Any) -> Any:
        return send(client, prepare(method, "/printxpand" + path, oauth1(who or creds, **kw), json_body))
    return do


def items(response: Any) -> list[dict[str, Any]]:
    body = response.get_json()
    assert isinstance(body, list) and len(body) == 1 and set(body[0]) == {"response"}, body
    return body[0]["response"]
