"""State the OAuth layer keeps must be shared by workers: two apps on one sqlite file."""
from __future__ import annotations

from urllib.parse import parse_qs

from requests_oauthlib import OAuth1

from tests.printxpand.conftest import items, oauth1, prepare, send

ONE = {"customer": {"9": {"id": "9", "first_name": "W", "email": "w@example.com"}}}


def test_nonce_and_tokens_are_shared_between_workers(app_factory, tmp_path):
    url = f"sqlite:///{tmp_path / 'px.db'}"
    a = app_factory(apis=["printxpand"], state=url).test_client()
    b = app_factory(apis=["printxpand"], state=url).test_client()
    creds = a.get("/__sandbox/credentials").json["printxpand"]
    signed = prepare("POST", "/printxpand/rest/V1/customer/create/", oauth1(creds), ONE)
    assert send(a, signed).status_code == 200
    replay = send(b, signed)
    assert replay.status_code == 401
    assert replay.get_json()["message"] == "The nonce is already being used by the consumer with ID %1"
    # a request token issued by one worker is exchanged at the other; the access token works at both
    r = send(a, prepare("POST", "/printxpand/oauth/token/request", OAuth1(creds["consumer_key"], creds["consumer_secret"])))
    token = {k: v[0] for k, v in parse_qs(r.get_data(as_text=True)).items()}
    exchange = OAuth1(creds["consumer_key"], creds["consumer_secret"], token["oauth_token"], token["oauth_token_secret"],
                      verifier=creds["oauth_verifier"])
    r = send(b, prepare("POST", "/printxpand/oauth/token/access", exchange))
    assert r.status_code == 200
    access = {k: v[0] for k, v in parse_qs(r.get_data(as_text=True)).items()}
    r = a.post("/printxpand/rest/V1/customer/create/", json=ONE,
               headers={"Authorization": f"Bearer {access['oauth_token']}"})
    assert r.status_code == 200 and items(r)[0]["message"] == "Customer Updated successfully!"


def test_root_mount_signs_the_unprefixed_url(app_factory):
    client = app_factory(apis=["printxpand"], root_api="printxpand").test_client()
    creds = client.get("/__sandbox/credentials").json["printxpand"]
    r = send(client, prepare("POST", "/rest/V1/product/delete/", oauth1(creds), {"product": ["10002"]}))
    assert r.status_code == 200, r.get_data(as_text=True)
    r = send(client, prepare("POST", "/printxpand/rest/V1/product/delete/", oauth1(creds), {"product": ["99999999"]}))
    assert r.status_code == 404 and items(r)[0]["message"] == "Product Id is Not Found!"
    r = send(client, prepare("POST", "/oauth/token/request", OAuth1(creds["consumer_key"], creds["consumer_secret"])))
    assert r.status_code == 200
