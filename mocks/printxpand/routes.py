"""PrintXpand routes: the OAuth token endpoints and the bulk entity endpoints.

Parse, call the model, serialize. Every bulk path is served with and without its trailing
slash, under ``/rest/V1/...`` and, as the document also shows for products, ``/V1/...``.
"""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Response, request

from mocks.core.api import public
from mocks.core.http import body, context, item_failures, json_response, sandbox, state
from mocks.printxpand.models import Categories, Customers, Orders, Products

FORM = "application/x-www-form-urlencoded"


def _answer(result: tuple[list, int]) -> Response:
    data, status = result
    return json_response(data, status)


_failures = item_failures  # a scenario's item_failures for this bulk request, if any


def _verifier():
    return context().api.verifier(sandbox())  # the PrintXpand Api


def build() -> Blueprint:
    bp = Blueprint("printxpand", __name__)

    @bp.post("/oauth/token/request")
    @public
    def request_token():
        return Response(urlencode(_verifier().issue_request_token(request)), mimetype=FORM)

    @bp.post("/oauth/token/access")
    @public
    def access_token():
        return Response(urlencode(_verifier().issue_access_token(request)), mimetype=FORM)

    def bulk(path: str, endpoint: str, view, methods=("POST",)) -> None:
        for prefix in ("/rest/V1", "/V1"):
            for slash in ("", "/"):
                name = f"{endpoint}{prefix.replace('/', '_')}{'_slash' if slash else ''}"
                bp.add_url_rule(f"{prefix}/{path}{slash}", name, view, methods=list(methods))

    bulk("customer/create", "customer_create", lambda: _answer(Customers(state()).create(body(), _failures())))
    bulk("category/create", "category_create", lambda: _answer(Categories(state()).create(body(), _failures())))
    bulk("category/delete", "category_delete", lambda: _answer(Categories(state()).delete(body(), _failures())))
    bulk("product/create", "product_create", lambda: _answer(Products(state()).create(body(), _failures())))
    bulk("product/delete", "product_delete", lambda: _answer(Products(state()).delete(body(), _failures())))
    bulk("order/create", "order_create", lambda: _answer(Orders(state()).create(body(), _failures())), ("GET", "POST"))
    return bp
