"""Seed data: warehouses, products with balances per warehouse, customers with discounts and
price lists, campaigns, and customer orders in every lifecycle status.

Options (``SandboxConfig.options["xtnd"]``): ``products`` (default 40), ``customers`` (15),
``orders`` (12). The guide gives no concrete records; it names the hook
``AvaiableBalanceChanged``, which subscriptions accept as written.
Seeded orders stay in their status until moved with ``POST /__sandbox/xtnd/orders/{id}/advance``
(so the examples are stable); orders created through the API move on the sandbox clock.
"""
from __future__ import annotations

from typing import Any

from mocks.core.seed import SeedContext
from mocks.core.state import TenantState
from mocks.xtnd.models.availability import balance_key
from mocks.xtnd.models.common import iso
from mocks.xtnd.models.orders import hash_number

WAREHOUSES = [
    {"warehouse": "01", "name": "Main warehouse", "city": "Stockholm", "country": "SE"},
    {"warehouse": "02", "name": "West warehouse", "city": "Göteborg", "country": "SE"},
]
GROUPS = ["TOOLS", "GARDEN", "PAINT", "FASTENERS", "SAFETY"]
NOUNS = {"TOOLS": ["Hammer", "Screwdriver", "Wrench", "Saw"], "GARDEN": ["Rake", "Hose", "Shovel", "Planter"],
         "PAINT": ["Primer", "Brush", "Roller", "Wall paint"], "FASTENERS": ["Screw box", "Nail pack", "Bolt set", "Anchor kit"],
         "SAFETY": ["Gloves", "Goggles", "Ear muffs", "Helmet"]}
STATUS_PLAN = ["created", "reserved", "picked", "delivered", "delivered", "cancelled"]
FLOW = ["created", "reserved", "picked", "delivered"]


def seed(state: TenantState, ctx: SeedContext) -> None:
    rng, fake = ctx.rng, ctx.fake
    n_products = int(ctx.option("products", 40))
    n_customers = int(ctx.option("customers", 15))
    n_orders = int(ctx.option("orders", 12))
    now = ctx.now

    state.collection("warehouses").put_many([(w["warehouse"], dict(w)) for w in WAREHOUSES])

    products: list[tuple[str, dict[str, Any]]] = []
    balances: dict[str, dict[str, Any]] = {}
    for i in range(n_products):
        number = str(100_001 + i)
        group = GROUPS[i % len(GROUPS)]
        changed = iso(now + i * 3600)
        products.append((number, {
            "itemNumber": number,
            "description": f"{fake.color_name()} {rng.choice(NOUNS[group])}",
            "extendedDescription": fake.sentence(nb_words=12),
            "productGroup": group,
            "unit": rng.choice(["pcs", "pcs", "pack", "m"]),
            "ean": fake.ean13(),
            "weightKg": round(rng.uniform(0.05, 12.0), 2),
            "standardPrice": round(rng.uniform(19, 1999), 2),
            "currency": "SEK",
            "vatPercent": 25,
            "active": i % 13 != 12,
            "created": iso(now - 86_400 * 30),
            "changed": changed,
        }))
        for w in WAREHOUSES:
            key = balance_key(number, w["warehouse"])
            balances[key] = {"itemNumber": number, "warehouse": w["warehouse"],
                             "onHand": rng.randint(0, 120) if w["warehouse"] == "02" else rng.randint(20, 300),
                             "reserved": 0, "changed": changed}
    state.collection("products").put_many(products)

    # Prices (see models.customers.Prices): the first three customers are the showcase, one per winning
    # source on item 100001: 10001 its own price list, 10002 its discount list, 10003 the running
    # campaign (which ends 2100-01-01: move the clock past it and the price list wins again).
    # Validity dates are fixed calendar dates, not relative to the wall clock, so the same seed
    # gives the same data on every run.
    price_lists: list[tuple[str, dict[str, Any]]] = []
    discount_lists: list[tuple[str, dict[str, Any]]] = [
        ("DL-B", {"discountListId": "DL-B", "name": "Builders 25 %", "validFrom": "2024-01-01T00:00:00.000Z",
                  "validTo": None, "rows": [{"productGroup": g, "discountPercent": 25} for g in GROUPS]}),
        ("DL-TOOLS", {"discountListId": "DL-TOOLS", "name": "Tools 10 %, hammers 12 %",
                      "validFrom": "2024-01-01T00:00:00.000Z", "validTo": None,
                      "rows": [{"itemNumber": "100001", "discountPercent": 12},
                               {"productGroup": "TOOLS", "discountPercent": 10}]}),
        ("DL-OLD", {"discountListId": "DL-OLD", "name": "Expired 40 %", "validFrom": "2023-01-01T00:00:00.000Z",
                    "validTo": "2024-01-01T00:00:00.000Z",
                    "rows": [{"productGroup": g, "discountPercent": 40} for g in GROUPS]}),
    ]
    customers: list[tuple[str, dict[str, Any]]] = []
    for i in range(n_customers):
        number = str(10_001 + i)
        address = {"name": fake.company(), "street": fake.street_address(), "zip": fake.postcode(),
                   "city": fake.city(), "country": "SE"}
        price_list = discount_list = None
        if i == 0 or (i > 2 and i % 3 == 0):
            price_list = f"PL-{number}"
            chosen = products[:10] if i == 0 else rng.sample(products, min(4, len(products)))
            factor = (lambda: 0.7) if i == 0 else (lambda: rng.uniform(0.7, 0.95))
            price_lists.append((price_list, {
                "priceListId": price_list, "name": f"Customer {number}", "currency": "SEK",
                "validFrom": "2024-01-01T00:00:00.000Z", "validTo": None,
                "prices": {pid: round(p["standardPrice"] * factor(), 2) for pid, p in chosen}}))
        if i == 1:
            discount_list = "DL-B"
        elif i > 2:
            discount_list = rng.choice([None, None, "DL-TOOLS", "DL-OLD"])
        customers.append((number, {
            "customerNumber": number,
            "name": address["name"],
            "organizationNumber": fake.numerify("55####-####"),
            "email": fake.company_email(),
            "phone": fake.numerify("+46 8 ### ## ##"),
            "currency": "SEK",
            "priceList": price_list,
            "discountList": discount_list,
            "invoiceAddress": address,
            "deliveryAddress": dict(address),
            "active": True,
            "created": iso(now - 86_400 * 60),
            "changed": iso(now + i * 7200),
        }))
    state.collection("customers").put_many(customers)
    state.collection("pricelists").put_many(price_lists)
    state.collection("discountlists").put_many(discount_lists)

    def campaign_prices(chosen: list[tuple[str, dict[str, Any]]], factor: float) -> dict[str, float]:
        return {pid: round(p["standardPrice"] * factor, 2) for pid, p in chosen}

    state.collection("campaigns").put_many([
        ("CAMP-1", {"campaignId": "CAMP-1", "name": "Running campaign", "customerNumbers": [],
                    "validFrom": "2024-01-01T00:00:00.000Z", "validTo": "2100-01-01T00:00:00.000Z",
                    "prices": campaign_prices(products[:6], 0.85)}),
        ("CAMP-2", {"campaignId": "CAMP-2", "name": "Winter sale (over)", "customerNumbers": [],
                    "validFrom": "2024-01-01T00:00:00.000Z", "validTo": "2024-03-01T00:00:00.000Z",
                    "prices": campaign_prices(products[6:12], 0.5)}),
        ("CAMP-3", {"campaignId": "CAMP-3", "name": "Next century (not started)", "customerNumbers": [],
                    "validFrom": "2100-01-01T00:00:00.000Z", "validTo": None,
                    "prices": campaign_prices(products[12:14], 0.5)}),
        ("CAMP-4", {"campaignId": "CAMP-4", "name": "Key accounts", "customerNumbers": ["10004", "10007"],
                    "validFrom": "2024-01-01T00:00:00.000Z", "validTo": None,
                    "prices": campaign_prices(products[14:18], 0.6)}),
    ])

    orders: list[tuple[str, dict[str, Any]]] = []
    sellable = [p for _, p in products if p["active"]]
    for i in range(n_orders if customers and sellable else 0):
        number = f"WS{500_001 + i}"
        status = STATUS_PLAN[i % len(STATUS_PLAN)]
        customer = customers[rng.randrange(len(customers))][1]
        created = now + i * 5400
        rows = []
        for r, product in enumerate(rng.sample(sellable, min(rng.randint(1, 3), len(sellable)))):
            qty = rng.randint(1, 5)
            rows.append({"rowNumber": r + 1, "itemNumber": product["itemNumber"], "description": product["description"],
                         "quantity": qty, "price": product["standardPrice"], "discountPercent": 0,
                         "reservedQuantity": qty if status in ("reserved", "picked") else 0,
                         "deliveredQuantity": qty if status == "delivered" else 0})
            if status in ("reserved", "picked"):
                balances[balance_key(product["itemNumber"], "01")]["reserved"] += qty
            elif status == "delivered":
                balances[balance_key(product["itemNumber"], "01")]["onHand"] += 0  # already shipped
        steps = FLOW[: FLOW.index(status) + 1] if status in FLOW else ["created", "cancelled"]
        history = [{"status": s, "at": iso(created + k * 3600)} for k, s in enumerate(steps)]
        changed = history[-1]["at"]
        shipment: dict[str, Any] = {"deliveryStatus": "notDelivered", "carrier": None, "trackingNumber": None,
                                    "deliveredAt": None, "deliveredRows": []}
        if status == "picked":
            shipment["deliveryStatus"] = "picked"
        elif status == "cancelled":
            shipment["deliveryStatus"] = "cancelled"
        elif status == "delivered":
            shipment = {"deliveryStatus": "delivered", "carrier": "PostNord",
                        "trackingNumber": "00" + str(hash_number(number))[:16].rjust(16, "7"),
                        "deliveredAt": changed,
                        "deliveredRows": [{"rowNumber": r["rowNumber"], "itemNumber": r["itemNumber"],
                                           "quantity": r["quantity"]} for r in rows]}
        total = sum(r["quantity"] * r["price"] for r in rows)
        orders.append((number, {
            "orderNumber": number, "customerNumber": customer["customerNumber"], "status": status,
            "currency": "SEK", "orderDate": iso(created)[:10], "warehouse": "01",
            "yourReference": fake.first_name(), "comment": "",
            "deliveryAddress": dict(customer["deliveryAddress"]), "rows": rows,
            "orderTotal": round(total, 2), "shipment": shipment, "statusHistory": history,
            "created": iso(created), "changed": changed, "_due": None, "_held": True,
        }))
    state.collection("orders").put_many(orders)
    state.collection("balances").put_many(list(balances.items()))
