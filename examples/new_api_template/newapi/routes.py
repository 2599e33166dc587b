"""NewApi routes: GET/POST /v1/widgets, GET /v1/widgets/{id}.

Parse, call the model, serialize. Auth, validation, faults, rate limits and errors are the chain's.
"""
from __future__ import annotations

from flask import Blueprint

from mocks.core.http import body, json_response, state
from mocks.newapi.models import Widgets


def build() -> Blueprint:
    bp = Blueprint("newapi", __name__)

    @bp.get("/v1/widgets")
    def list_widgets():
        return json_response(Widgets(state()).list())

    @bp.post("/v1/widgets")
    def create_widget():
        return json_response(Widgets(state()).create(body()), 201)

    @bp.get("/v1/widgets/<widget_id>")
    def get_widget(widget_id: str):
        return json_response(Widgets(state()).one(widget_id))

    return bp
