"""Deterministic seed data: the demo accounts' store registries and each demo store's data.

Every random choice comes from ``ctx.rng``/``ctx.fake``; timestamps count from ``ctx.now``. The
vendor documents' own examples are included (the OpenAPI document's example product model
"bag_01", the FAQ's live-shipping test address in Moody, AL 35004).
"""
from __future__ import annotations

from typing import Any

from mocks.api2cart import models as M
from mocks.core.seed import SeedContext
from mocks.core.state import TenantState

#: the demo accounts: api_key -> stores (store_key, cart_id, url, credentials). Keys are the vendor's
#: 32-hex format and fixed, so scripts and CI can hard-code them.
ACCOUNTS: list[dict[str, Any]] = [
    {"api_key": M.new_key("api2cart-demo-account-1"), "label": "demo", "stores": [
        {"cart_id": "Shopify", "url": "https://demo-outfitters.myshopify.com", "label": "Demo Shopify",
         "credentials": {"shopify_access_token": "shpat_demo0000000000000000000000000",
                         "shopify_shared_secret": "demo-shared-secret-0"}},
        {"cart_id": "Woocommerce", "url": "https://woo.demo-outfitters.example.com", "label": "Demo WooCommerce",
         "credentials": {}},
        {"cart_id": "Magento1212", "url": "https://magento2.demo-outfitters.example.com", "label": "Demo Magento 2",
         "credentials": {}},
        {"cart_id": "Bol", "url": "", "label": "Demo Bol.com",
         "credentials": {"bol_api_key": "51369628-feee-11ed-be56-0242ac120002", "bol_api_secret": "demo-secret",
                         "bol_retailer_id": 145001}},
        {"cart_id": "Prestashop", "url": "https://presta.demo-outfitters.example.com", "label": "Disconnected PrestaShop",
         "credentials": {}, "connected": False},
    ]},
    {"api_key": M.new_key("api2cart-demo-account-2"), "label": "second", "stores": [
        {"cart_id": "Shopify", "url": "https://second-account.myshopify.com", "label": "Second account Shopify",
         "credentials": {"shopify_access_token": "shpat_demo1111111111111111111111111",
                         "shopify_shared_secret": "demo-shared-secret-1"}},
        {"cart_id": "Woocommerce", "url": "https://woo.second-account.example.com", "label": "Second account WooCommerce",
         "credentials": {}},
    ]},
    {"api_key": M.new_key("api2cart-demo-disabled"), "label": "disabled", "disabled": True, "stores": []},
    {"api_key": M.new_key("api2cart-demo-no-api-access"), "label": "no-api-access", "api_access": False, "stores": []},
]


def store_key(api_key: str, index: int) -> str:
    return M.new_key(api_key, "seed-store", index)


def account_stores(account: dict[str, Any]) -> list[dict[str, Any]]:
    """The registry records of an account's built-in stores."""
    out = []
    for n, spec in enumerate(account["stores"], start=1):
        key = store_key(account["api_key"], n)
        bridge = spec["cart_id"] in M.BRIDGE_CARTS
        out.append({
            "id": str(n), "tenant": M.store_tenant_id(key), "store_key": key, "cart_id": spec["cart_id"],
            "url": spec["url"], "custom_label": spec["label"], "bridge_url": "", "store_root": "",
            "bridge_version": M.BRIDGE_VERSION if bridge else "", "version": M.VERSIONS.get(spec["cart_id"], ""),
            "credentials": spec["credentials"], "connected": spec.get("connected", True), "created_at": 0.0,
            "name": spec["label"], "builtin": True,
        })
    return out


def seed_account(state: TenantState, account: dict[str, Any], ctx: SeedContext) -> None:
    stores = account_stores(account)
    for store in stores:
        store["created_at"] = ctx.now
    state.collection("stores").put_many([(s["tenant"], s) for s in stores])
    state.reserve_ids("store", len(stores))


CATEGORY_NAMES = ["Bags", "Shoes", "Jackets", "Accessories", "Outdoor"]


def seed_store(state: TenantState, ctx: SeedContext, cart_id: str) -> None:
    rng, fake = ctx.rng, ctx.fake
    t0 = ctx.now
    n_products = int(ctx.option("products", 30))
    n_customers = int(ctx.option("customers", 12))
    n_orders = int(ctx.option("orders", 25))

    categories = []
    for i, name in enumerate(CATEGORY_NAMES, start=1):
        categories.append((str(i), M.new_category(str(i), t0 + i * 60, name, "0", f"{name} of every kind", True, i)))
    state.collection("categories").put_many(categories)
    state.reserve_ids("category", len(categories))

    products = []
    for i in range(1, n_products + 1):
        ts = t0 + 3600 + i * 1800
        if i == 1:  # the vendor document's own example product
            name, model, desc, price = "Bag", "bag_01", "Test product", 10.0
        else:
            name = f"{fake.color_name()} {rng.choice(['Backpack', 'Sneaker', 'Parka', 'Cap', 'Tent', 'Wallet'])}"
            model = f"{name.split()[-1][:3].upper()}-{1000 + i}"
            desc = fake.sentence(nb_words=10)
            price = round(rng.uniform(5, 250), 2)
        cats = [str(rng.randint(1, len(CATEGORY_NAMES)))]
        product = M.new_product(str(i), ts, name=name, model=model, sku=model, description=desc, price=price,
                                categories=cats)
        qty = float(rng.randint(0, 80))
        product.update(quantity=qty, in_stock=qty > 0, weight=round(rng.uniform(0.1, 5), 2), u_brand="Demo Outfitters",
                       url=f"/products/{model.lower()}", seo_url=model.lower())
        product["modified_at"] = M.a2c_date(ts + rng.randint(0, 86400))
        product["_ts"]["modified"] = M.parse_date("m", product["modified_at"]["value"][:19])
        products.append((str(i), product))
    state.collection("products").put_many(products)
    state.reserve_ids("product", len(products))

    customers = []
    for i in range(1, n_customers + 1):
        first, last = fake.first_name(), fake.last_name()
        email = f"{first}.{last}{i}@example.com".lower()
        customers.append((str(i), M.new_customer(str(i), t0 + 7200 + i * 3600, email, first, last, fake.numerify("555-###-####"))))
    state.collection("customers").put_many(customers)
    state.reserve_ids("customer", len(customers))

    orders = []
    statuses = list(M.ORDER_STATUSES)
    for i in range(1, n_orders + 1):
        ts = t0 + 86400 + i * 5400
        cid, customer = customers[rng.randrange(len(customers))]
        lines = []
        for n in range(1, rng.randint(1, 3) + 1):
            _, prod = products[rng.randrange(len(products))]
            lines.append(M.order_item(str(n), prod["id"], prod["name"], prod["u_model"], prod["price"],
                                      rng.randint(1, 3), 0.0, prod["weight"]))
        if i == 1:  # the FAQ's live-shipping example destination
            address = {"city": "Moody", "postcode": "35004", "address1": "Test, 1/1", "state": "AL"}
        else:
            address = {"city": fake.city(), "postcode": fake.postcode(), "address1": fake.street_address(),
                       "state": fake.state_abbr()}
        billing = {"id": "", "type": "billing", "first_name": customer["first_name"], "last_name": customer["last_name"],
                   "postcode": address["postcode"], "address1": address["address1"], "address2": None,
                   "phone": customer["phone"], "phone_mobile": None, "city": address["city"],
                   "country": M.country_obj("US"), "state": {"code": address["state"], "name": address["state"]},
                   "company": None, "fax": None, "website": None, "gender": None, "region": None, "default": True,
                   "tax_id": None, "identification_number": None, "alias": None}
        status = statuses[rng.randrange(len(statuses))] if i > 3 else "processing"
        order = M.new_order(str(i), str(1000 + i), ts, status, lines,
                            customer={"id": cid, "email": customer["email"], "first_name": customer["first_name"],
                                      "last_name": customer["last_name"], "phone": customer["phone"]},
                            billing=billing, shipping=None, shipping_price=round(rng.choice([0, 4.99, 9.99]), 2))
        order["_financial_status"] = "paid" if status not in ("pending", "canceled") else "pending"
        order["_fulfillment_status"] = "fulfilled" if status in ("shipped", "complete") else "unfulfilled"
        orders.append((str(i), order))
    state.collection("orders").put_many(orders)
    state.reserve_ids("order", len(orders))

    # one return on the first complete order, so return.list is not empty
    done = next(((oid, o) for oid, o in orders if o["status"]["id"] == "complete"), None)
    if done is not None:
        oid, order = done
        item = order["order_products"][0]
        ts = order["_ts"]["created"] + 86400
        status = "open" if cart_id == "Shopify" else "pending"  # Shopify's workflow has no "pending"
        product = {"product_id": item["product_id"], "order_product_id": item["order_product_id"],
                   "sku": item["model"], "name": item["name"], "quantity": 1,
                   "reason": {"id": "defective", "name": M.RETURN_REASONS["defective"]},
                   "action": {"id": "refund", "name": M.RETURN_ACTIONS["refund"]},
                   "condition": None, "customer_comment": "Zipper broke after a week"}
        if cart_id == "Bol":  # Bol.com: a free-text reason, no reason id; a handling status per product
            product["reason"] = {"id": "", "name": "Defective"}
            product["additional_fields"] = {"handling_status": "RETURN_RECEIVED"}
        ret = {"id": "1", "name": "#1", "order_id": oid, "customer_id": order["customer"]["id"], "store_id": "1",
               "created_at": M.plain_date(ts), "modified_at": M.plain_date(ts),
               "status": {"id": status, "name": M.return_statuses(cart_id)[status]},
               "order_products": [product],
               "comment": None, "staff_note": None, "_ts": {"created": ts, "modified": ts}}
        order["additional_fields"] = {**order.get("additional_fields", {}), "return_status": status}
        state.collection("orders").put(oid, order)
        state.collection("returns").put("1", ret)
        state.reserve_ids("return", 1)
