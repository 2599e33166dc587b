"""OAuth 1.0a as Magento 2 does it: signatures, nonces, timestamps, the token flow, bearer."""
from __future__ import annotations

import time
from urllib.parse import parse_qs

import pytest
import requests
from requests_oauthlib import OAuth1

from tests.printxpand.conftest import items, oauth1, prepare, send

CREATE = "/rest/V1/customer/create/"
ONE = {"customer": {"777": {"id": "777", "first_name": "Ann", "last_name": "Lee", "email": "ann.lee@example.com"}}}


def magento_error(response, status, message, parameters=None):
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["message"] == message, body
    if parameters is not None:
        assert body["parameters"] == parameters, body
    return body


@pytest.mark.parametrize("method", ["HMAC-SHA1", "HMAC-SHA256"])
def test_requests_oauthlib_signature_is_accepted(call, method):
    r = call("POST", CREATE, ONE, signature_method=method)
    assert r.status_code == 200
    assert items(r) == [{"id": "777", "code": "200", "status": "success", "message": "Customer created successfully!"}]


def test_both_slash_forms_and_short_path_verify(call):
    for path in ("/rest/V1/product/delete", "/rest/V1/product/delete/", "/V1/product/delete/", "/V1/product/delete"):
        r = call("POST", path, {"product": ["999999"]})
        assert r.status_code == 404 and items(r)[0]["message"] == "Product Id is Not Found!"


def test_query_parameters_are_signed(client, creds):
    good = prepare("POST", "/printxpand/rest/V1/product/delete/", oauth1(creds), {"product": ["1"]}, params={"a": "1"})
    assert send(client, good).status_code == 404  # signed; the item is not found
    tampered = prepare("POST", "/printxpand/rest/V1/product/delete/", oauth1(creds), {"product": ["1"]},
                       params={"a": "1"})
    tampered.url = tampered.url.replace("a=1", "a=2")
    magento_error(send(client, tampered), 401, "The signature is invalid. Verify and try again.", [])


def test_json_body_is_not_signed_but_form_body_is(client, creds):
    prepared = prepare("POST", "/printxpand/oauth/token/request", OAuth1(creds["consumer_key"], creds["consumer_secret"]),
                       data={"extra": "x"})
    assert b"extra=x" in prepared.body
    assert send(client, prepared).status_code == 200
    tampered = prepare("POST", "/printxpand/oauth/token/request",
                       OAuth1(creds["consumer_key"], creds["consumer_secret"]), data={"extra": "x"})
    tampered.body = b"extra=y"
    magento_error(send(client, tampered), 401, "The signature is invalid. Verify and try again.")
    # a JSON body may change after signing: Magento does not sign it
    j = prepare("POST", "/printxpand" + CREATE, oauth1(creds), ONE)
    j.body = j.body.replace(b"Ann", b"Bea")
    assert send(client, j).status_code == 200


def test_wrong_secret_is_an_invalid_signature(call, creds):
    r = call("POST", CREATE, ONE, who={**creds, "consumer_secret": "0" * 32})
    magento_error(r, 401, "The signature is invalid. Verify and try again.", [])
    r = call("POST", CREATE, ONE, who={**creds, "access_token_secret": "0" * 32})
    magento_error(r, 401, "The signature is invalid. Verify and try again.")


def test_signed_for_another_host_path_is_invalid(client, creds):
    prepared = prepare("POST", "/printxpand" + CREATE, oauth1(creds), ONE)
    prepared.url = prepared.url.replace(CREATE, "/rest/V1/category/create/")
    r = send(client, prepared)
    magento_error(r, 401, "The signature is invalid. Verify and try again.")


def test_unsupported_signature_method(call):
    r = call("POST", CREATE, ONE, signature_method="PLAINTEXT")
    magento_error(r, 401, "Signature method %1 is not supported", ["PLAINTEXT"])


def test_missing_required_oauth_fields(client, creds):
    base = {"oauth_consumer_key": creds["consumer_key"], "oauth_token": creds["access_token"],
            "oauth_signature_method": "HMAC-SHA1", "oauth_timestamp": str(int(time.time())),
            "oauth_nonce": "abc123", "oauth_version": "1.0", "oauth_signature": "xyz%3D"}
    for missing in ("oauth_consumer_key", "oauth_signature", "oauth_signature_method", "oauth_nonce",
                    "oauth_timestamp", "oauth_token"):
        fields = {k: v for k, v in base.items() if k != missing}
        header = "OAuth " + ", ".join(f'{k}="{v}"' for k, v in fields.items())
        r = client.post("/printxpand" + CREATE, json=ONE, headers={"Authorization": header})
        magento_error(r, 401, '"%fieldName" is required. Enter and try again.', {"fieldName": missing})


def test_no_credentials_at_all(client):
    r = client.post("/printxpand" + CREATE, json=ONE)
    magento_error(r, 401, "The consumer isn't authorized to access %resources.", {"resources": "PrintXpand_Api::api"})


def test_unknown_consumer_and_token(call, creds):
    r = call("POST", CREATE, ONE, who={**creds, "consumer_key": "f" * 32})
    magento_error(r, 401, "A consumer having the specified key does not exist")
    r = call("POST", CREATE, ONE, who={**creds, "access_token": "e" * 32})
    magento_error(r, 401, "Specified token does not exist")


def test_unsupported_version(client, creds):
    prepared = prepare("POST", "/printxpand" + CREATE, oauth1(creds), ONE)
    header = prepared.headers["Authorization"]
    header = (header.decode() if isinstance(header, bytes) else header).replace('oauth_version="1.0"', 'oauth_version="2.0"')
    prepared.headers["Authorization"] = header
    magento_error(send(client, prepared), 401, 'The "%1" Oauth version isn\'t supported.', ["2.0"])


def test_replayed_nonce_is_rejected(client, creds):
    prepared = prepare("POST", "/printxpand" + CREATE, oauth1(creds), ONE)
    assert send(client, prepared).status_code == 200
    r = send(client, prepared)
    magento_error(r, 401, "The nonce is already being used by the consumer with ID %1", [creds["consumer_id"]])


def test_nonce_is_per_consumer(client, consumers):
    a = prepare("POST", "/printxpand" + CREATE, oauth1(consumers[0], nonce="same-nonce-1"), ONE)
    b = prepare("POST", "/printxpand" + CREATE, oauth1(consumers[1], nonce="same-nonce-1"), ONE)
    assert send(client, a).status_code == 200
    assert send(client, b).status_code == 200


@pytest.mark.parametrize("offset", [-601, 601])
def test_stale_or_future_timestamp(call, offset):
    r = call("POST", CREATE, ONE, timestamp=str(int(time.time()) + offset))
    magento_error(r, 401, "Incorrect timestamp value in the oauth_timestamp parameter", [])


@pytest.mark.parametrize("scope", [{}, {"api": "printxpand"}])
def test_timestamps_are_checked_against_real_time_whatever_the_sandbox_clock(client, call, scope):
    """Magento checks oauth_timestamp against its server's clock: moving the sandbox clock (two
    hours, globally or for PrintXpand) never breaks a correctly signed request."""
    assert client.post("/__sandbox/clock", json={"advance_seconds": 7200, **scope}).status_code == 200
    assert call("POST", CREATE, ONE).status_code == 200
    r = call("POST", CREATE, ONE, timestamp=str(int(time.time()) + 7200))   # signed with the sandbox time
    magento_error(r, 401, "Incorrect timestamp value in the oauth_timestamp parameter", [])
    assert client.post("/__sandbox/clock", json={"now": "2031-01-01T00:00:00Z", **scope}).status_code == 200
    assert call("POST", CREATE, ONE).status_code == 200


def test_nonces_are_remembered_for_the_timestamp_window_only(app, client, creds, monkeypatch):
    from mocks.printxpand import auth as oauth

    real = time.time()
    prepared = prepare("POST", "/printxpand" + CREATE, oauth1(creds, nonce="window-nonce"), ONE)
    assert send(client, prepared).status_code == 200
    monkeypatch.setattr(oauth, "real_time", lambda: real + oauth.MAX_SKEW)   # the next window
    again = prepare("POST", "/printxpand" + CREATE, oauth1(creds, nonce="window-nonce",
                                                          timestamp=str(int(real + oauth.MAX_SKEW))), ONE)
    magento_error(send(client, again), 401, "The nonce is already being used by the consumer with ID %1",
                  [creds["consumer_id"]])
    later = real + 3 * oauth.MAX_SKEW   # two windows on: forgotten, and the old windows are dropped
    monkeypatch.setattr(oauth, "real_time", lambda: later)
    fresh = prepare("POST", "/printxpand" + CREATE, oauth1(creds, nonce="window-nonce", timestamp=str(int(later))), ONE)
    assert send(client, fresh).status_code == 200
    store = app.extensions["sandbox"].store
    assert len([n for n in store.namespaces("printxpand/") if oauth.NONCES in n]) == 1


def test_bearer_integration_token(client, creds):
    r = client.post("/printxpand" + CREATE, json=ONE, headers={"Authorization": f"Bearer {creds['bearer_token']}"})
    assert r.status_code == 200 and items(r)[0]["message"] == "Customer created successfully!"
    r = client.post("/printxpand" + CREATE, json=ONE, headers={"Authorization": "Bearer nope"})
    magento_error(r, 401, "The consumer isn't authorized to access %resources.", {"resources": "PrintXpand_Api::api"})


def token_flow(client, creds):
    consumer_only = OAuth1(creds["consumer_key"], creds["consumer_secret"])
    r = send(client, prepare("POST", "/printxpand/oauth/token/request", consumer_only))
    assert r.status_code == 200 and r.mimetype == "application/x-www-form-urlencoded"
    request_token = {k: v[0] for k, v in parse_qs(r.get_data(as_text=True)).items()}
    assert set(request_token) == {"oauth_token", "oauth_token_secret"}
    exchange = OAuth1(creds["consumer_key"], creds["consumer_secret"], request_token["oauth_token"],
                      request_token["oauth_token_secret"], verifier=creds["oauth_verifier"])
    return request_token, exchange


def test_token_flow_request_then_access_then_use(client, creds):
    request_token, exchange = token_flow(client, creds)
    r = send(client, prepare("POST", "/printxpand/oauth/token/access", exchange))
    assert r.status_code == 200, r.get_data(as_text=True)
    access = {k: v[0] for k, v in parse_qs(r.get_data(as_text=True)).items()}
    assert access["oauth_token"] != request_token["oauth_token"]
    use = OAuth1(creds["consumer_key"], creds["consumer_secret"], access["oauth_token"], access["oauth_token_secret"])
    r = send(client, prepare("POST", "/printxpand" + CREATE, use, ONE))
    assert r.status_code == 200
    # the new access token also works as a bearer token
    r = client.post("/printxpand" + CREATE, json=ONE, headers={"Authorization": f"Bearer {access['oauth_token']}"})
    assert r.status_code == 200 and items(r)[0]["message"] == "Customer Updated successfully!"
    # a request token is exchanged once
    again = OAuth1(creds["consumer_key"], creds["consumer_secret"], request_token["oauth_token"],
                   request_token["oauth_token_secret"], verifier=creds["oauth_verifier"])
    magento_error(send(client, prepare("POST", "/printxpand/oauth/token/access", again)), 401,
                  "Token is already being used")
    # a request token is not an access token
    wrong = OAuth1(creds["consumer_key"], creds["consumer_secret"], request_token["oauth_token"],
                   request_token["oauth_token_secret"])
    magento_error(send(client, prepare("POST", "/printxpand" + CREATE, wrong, ONE)), 401, "Token is not an access token")


def test_access_token_needs_the_verifier(client, creds):
    request_token, _ = token_flow(client, creds)
    bad = OAuth1(creds["consumer_key"], creds["consumer_secret"], request_token["oauth_token"],
                 request_token["oauth_token_secret"], verifier="0" * 32)
    magento_error(send(client, prepare("POST", "/printxpand/oauth/token/access", bad)), 401, "Verifier is invalid")
    none = OAuth1(creds["consumer_key"], creds["consumer_secret"], request_token["oauth_token"],
                  request_token["oauth_token_secret"])
    magento_error(send(client, prepare("POST", "/printxpand/oauth/token/access", none)), 401,
                  '"%fieldName" is required. Enter and try again.', {"fieldName": "oauth_verifier"})
    # an access token cannot be exchanged again
    seeded = OAuth1(creds["consumer_key"], creds["consumer_secret"], creds["access_token"],
                    creds["access_token_secret"], verifier=creds["oauth_verifier"])
    magento_error(send(client, prepare("POST", "/printxpand/oauth/token/access", seeded)), 401,
                  "Specified token is not a request token")


def test_token_request_needs_a_valid_signature(client, creds):
    bad = OAuth1(creds["consumer_key"], "0" * 32)
    magento_error(send(client, prepare("POST", "/printxpand/oauth/token/request", bad)), 401,
                  "The signature is invalid. Verify and try again.")
    magento_error(client.post("/printxpand/oauth/token/request"), 401,
                  '"%fieldName" is required. Enter and try again.', {"fieldName": "oauth_consumer_key"})


def test_token_of_another_consumer_is_refused(call, consumers):
    crossed = {**consumers[0], "access_token": consumers[1]["access_token"],
               "access_token_secret": consumers[1]["access_token_secret"]}
    magento_error(call("POST", CREATE, ONE, who=crossed), 401, "Token is not associated with the specified consumer")


def test_journal_never_shows_secrets(client, call, creds):
    call("POST", CREATE, ONE)
    client.post("/printxpand" + CREATE, json=ONE, headers={"Authorization": f"Bearer {creds['bearer_token']}"})
    request_token, exchange = token_flow(client, creds)
    issued = send(client, prepare("POST", "/printxpand/oauth/token/access", exchange)).get_data(as_text=True)
    journal = client.get("/__sandbox/requests").get_json()
    text = str(journal)
    assert "/printxpand/oauth/token/access" in text and CREATE in text
    secrets = [creds["consumer_secret"], creds["access_token_secret"], creds["access_token"],
               request_token["oauth_token_secret"], *(v[0] for v in parse_qs(issued).values())]
    for secret in secrets:
        assert secret not in text


def test_real_server_with_requests_oauthlib_unchanged(app, creds, serve):
    base = serve(app) + "/printxpand"
    for method in ("HMAC-SHA1", "HMAC-SHA256"):
        r = requests.post(base + "/rest/V1/category/create/", json={"category": {"5": {"id": "5", "name": "Mugs"}}},
                          auth=oauth1(creds, signature_method=method), timeout=10)
        assert r.status_code == 200, r.text
    r = requests.post(base + "/oauth/token/request", auth=OAuth1(creds["consumer_key"], creds["consumer_secret"]),
                      timeout=10)
    assert r.status_code == 200 and "oauth_token=" in r.text
    r = requests.get(base + "/rest/V1/order/create/", params={"page": "1"}, json={"order": {}},
                     auth=oauth1(creds), timeout=10)
    assert r.status_code == 200 and r.json() == [{"response": []}]


def test_oauth_parameters_in_the_query_string(client, creds):
    """Magento also reads OAuth parameters from the query (requests-oauthlib's signature_type="query")."""
    prepared = prepare("POST", "/printxpand" + CREATE, oauth1(creds, signature_type="query"), ONE)
    assert "Authorization" not in prepared.headers and "oauth_signature=" in prepared.url
    assert send(client, prepared).status_code == 200


@pytest.mark.parametrize("header", [
    "OAuth", "OAuth garbage", 'OAuth oauth_consumer_key="%%%"', 'OAuth oauth_consumer_key="a", oauth_consumer_key="b"',
    'OAuth oauth_consumer_key="k",oauth_signature="s",oauth_signature_method="HMAC-SHA1",oauth_nonce="n",'
    'oauth_timestamp="\u0663\u0663"', "Bearer", "Basic abc", "OAuth \u00e9=\u00e9",
])
@pytest.mark.parametrize("path", [CREATE, "/oauth/token/request", "/oauth/token/access"])
def test_hostile_authorization_headers_get_a_magento_401(client, header, path):
    r = client.post("/printxpand" + path, json={"customer": {}}, headers={"Authorization": header})
    assert r.status_code == 401 and set(r.get_json()) == {"message", "parameters"}


def test_more_consumers_by_option(app_factory):
    client = app_factory(apis=["printxpand"], options={"printxpand": {"consumers": 3, "products": 0}}).test_client()
    consumers = client.get("/__sandbox/credentials").json["printxpand"]["consumers"]
    assert len({c["tenant"] for c in consumers}) == 3 and len({c["consumer_key"] for c in consumers}) == 3
    third = consumers[2]
    r = send(client, prepare("POST", "/printxpand/rest/V1/product/delete/", oauth1(third), {"product": ["10002"]}))
    assert r.status_code == 200  # the document's example products are seeded whatever the options
