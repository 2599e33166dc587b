"""Stock2Shop routes: parse, check the role, call the model, serialize."""
from __future__ import annotations

import hmac

from flask import Blueprint, Response, request

from mocks.core.api import public
from mocks.core.cache import cacheable
from mocks.core.http import body, item_failures, json_response, mount_prefix, principal, sandbox, state
from mocks.stock2shop import auth
from mocks.stock2shop import errors as X
from mocks.stock2shop import models as M
from mocks.stock2shop import seed as seed_data


def _user() -> dict:
    return principal()


def _search(collection: str, action: str):
    M.require(_user(), action)
    st = state()
    return json_response(M.elastic_search(st, collection, body({}) or {}, _user(),
                                          channel_id=request.args.get("channel_id", type=int)))


def build() -> Blueprint:
    bp = Blueprint("stock2shop", __name__)

    # -- users -------------------------------------------------------------------------------
    @bp.post("/v1/users/authenticate")
    @public
    def authenticate():
        auth = body()["system_user_auth"]
        username, password = str(auth["username"]), str(auth["password"])
        for cid in seed_data.CLIENTS:
            for spec in seed_data.users_of(cid):
                if spec["username"] != username:
                    continue
                if hmac.compare_digest(spec["password"].encode(), password.encode()):
                    st = sandbox().state("stock2shop", cid)
                    users = M.Users(st)
                    user = users.users.lookup(str(spec["id"]))
                    if user is None or not user.get("active", 1):
                        raise X.BadCredentials()
                    users.issue(user)
                    return json_response({"system_user": M.public_user(users.users.lookup(str(spec["id"])), st, True)})
        raise X.BadCredentials()

    @bp.get("/v1/users/valid_token/<token>")
    @public
    def valid_token(token: str):
        user, tenant = auth.find_token(sandbox(), token)
        return json_response({"system_user": M.public_user(user, sandbox().state("stock2shop", tenant), False)})

    # -- sources and channels ----------------------------------------------------------------
    @bp.get("/v1/sources")
    @cacheable
    def sources():
        M.require(_user(), "read sources")
        return json_response({"system_sources": M.Catalogue(state()).sources()})

    @bp.get("/v1/channels")
    @cacheable
    def channels():
        M.require(_user(), "read channels")
        return json_response({"system_channels": M.Catalogue(state()).channels()})

    # -- search ------------------------------------------------------------------------------
    @bp.post("/v1/products/elastic_search")
    @bp.post("/v1/products/elasticsearch")
    @cacheable(body=True)
    def search_products():
        return _search("products", "read products")

    @bp.post("/v1/orders/elastic_search")
    @bp.post("/v1/orders/elasticsearch")
    @cacheable(body=True)
    def search_orders():
        return _search("orders", "read orders")

    @bp.get("/v1/orders/search")
    @cacheable
    def orders_search():
        M.require(_user(), "read orders")
        st = state()
        args = request.args
        return json_response(M.Orders(st).search(_user(), args.get("status"), args.get("limit", 50, type=int),
                                                 args.get("offset", 0, type=int)))

    @bp.get("/v1/orders/<ref>")
    @cacheable
    def order_one(ref: str):
        M.require(_user(), "read orders")
        st = state()
        return json_response(M.Orders(st).one(_user(), ref))

    @bp.post("/v1/customers/elastic_search")
    @cacheable(body=True)
    def search_customers():
        return _search("customers", "read customers")

    # -- queues ------------------------------------------------------------------------------
    @bp.post("/v1/products/queue")
    def queue_products():
        source_id = request.args.get("source_id", type=int)
        n = M.Queue(state()).queue_products(_user(), body(), source_id, item_failures())
        return json_response({"system_products": {"sync_product": n}})

    @bp.post("/v1/images/queue")
    def queue_images():
        base = request.host_url.rstrip("/") + mount_prefix() + "/s2s-image"
        n = M.Queue(state()).queue_images(_user(), body(), item_failures(), image_base=base)
        return json_response({"system_images": {"sync_image": n}})

    @bp.post("/v2-queue/order")
    def queue_order():
        client_id = request.args.get("client_id", type=int)
        channel_id = request.args.get("channel_id", type=int)
        return json_response(M.Queue(state()).queue_order(_user(), client_id, channel_id, body()))

    @bp.get("/v1/queue/summary")
    @cacheable
    def queue_summary():
        M.require(_user(), "read the queue")
        return json_response(M.Queue(state()).summary())

    @bp.get("/v1/queue/items")
    @bp.post("/v1/queue/items")  # Stock2Shop's clients POST the query string with an empty body
    @cacheable  # the GET's answer (a POST is never cached)
    def queue_items():
        M.require(_user(), "read the queue")
        args = request.args
        return json_response(M.Queue(state()).listing(args.get("status"), args.get("instruction"),
                                                      args.get("limit", 100, type=int),
                                                      source_id=args.get("source_id", type=int),
                                                      offset=args.get("offset", 0, type=int)))

    @bp.put("/v1/queue/reset/<ref>")
    def queue_reset(ref: str):
        M.require(_user(), "queue products")
        return json_response(M.Queue(state()).reset(ref))

    @bp.get("/v1/queue/items/<ref>")
    @cacheable
    def queue_item(ref: str):
        M.require(_user(), "read the queue")
        return json_response(M.Queue(state()).one(ref))

    # -- image files (S3 on the real service: public, no token) --------------------------------
    def _image(name: str):
        for cid in seed_data.CLIENTS:
            found = M.Images(sandbox().state("stock2shop", cid)).load(name)
            if found is not None:
                data, ctype = found
                return Response(data, mimetype=ctype,
                                headers={"Cache-Control": "public, max-age=31536000", "ETag": name.split(".")[0]})
        raise X.ImageNotFound(name)

    @bp.get("/s2s-image/<name>")
    @public
    @cacheable
    def image_file(name: str):
        return _image(name)

    @bp.get("/s2s-image/thumb/<any('50x50', '160x160'):size>/<name>")
    @public
    @cacheable
    def image_thumb(size: str, name: str):
        # the thumbnail answers the original bytes: no imaging library is bundled (fidelity notes)
        return _image(name)

    return bp
