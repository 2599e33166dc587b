"""Channel order payloads (what ``POST /v2-queue/order`` receives) mapped to one neutral shape.

The documents say the payload is whatever the channel itself sends: "a Shopify order will follow
the format of the shopify webhook and a Woocommerce order will follow the Woocommerce format".
The channel's ``type`` decides the mapping (``shopify``, ``woocommerce``); for any other type the
payload's shape does (Shopify orders carry ``line_items[].quantity`` with string prices and
``shipping_lines[].price``; WooCommerce orders carry ``billing``/``shipping`` objects). Anything
else is kept with a minimal order: a code, the customer e-mail if one is found, and the payload's
top-level scalars as order meta.

Field by field (Shopify order webhook → Stock2Shop order):
  id → channel_order_code; name/order_number, financial_status, fulfillment_status, currency,
  note_attributes[] → meta; note → notes; email / customer.email → customer.email;
  customer.id/first_name/last_name → customer.channel_customer_code/first_name/last_name;
  line_items[].sku/title/quantity/price/grams/total_discount → line_items[].sku/title/qty/price/grams/
  total_discount; line_items[].tax_lines[].rate (0.15) → tax_lines[].rate ("15") and the line tax;
  shipping_lines[].price (sum) → shipping_sub_total, their tax_lines[].price → shipping_tax;
  shipping_address / billing_address (same field names) → shipping_address / billing_address.
  Shopify's ``taxes_included: true`` means prices include tax: the line price is divided by 1+rate.

WooCommerce order webhook → Stock2Shop order:
  number (else id) → channel_order_code; id, status, currency, payment_method, meta_data[] → meta;
  customer_note → notes; billing.email → customer.email; customer_id → customer.channel_customer_code;
  billing.first_name/last_name → customer names; line_items[].sku/name/quantity/price →
  sku/title/qty/price; line_items[].subtotal - total → total_discount; total_tax/total → rate;
  shipping_lines[].total (sum) → shipping_sub_total, total_tax → shipping_tax;
  billing/shipping {first_name, last_name, company, address_1, address_2, city, state, postcode,
  country, phone} → {first_name, last_name, company, address1, address2, city, province(+_code),
  zip, country(+_code), phone}.
"""
from __future__ import annotations

from typing import Any

from mocks.core.coerce import finite, to_number

DEFAULT_RATE = 15.0  # South African VAT: the documents' example order carries tax_lines rate "15"


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    return [x for x in value if isinstance(x, dict)] if isinstance(value, list) else []


def _s(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _f(value: Any, default: float = 0.0) -> float:
    f = finite(to_number(value))
    if f is None:
        return default
    return min(max(f, -1e9), 1e9)  # bounded so totals stay finite JSON numbers whatever a channel sends


def _qty(value: Any) -> int:
    return int(min(max(_f(value, 1), 0), 1_000_000))


def _rate_text(rate: float) -> str:
    return f"{round(rate, 4):g}"


def detect(channel_type: str | None, data: dict[str, Any]) -> str:
    if channel_type in ("shopify", "woocommerce"):
        return channel_type
    if isinstance(data.get("billing"), dict) or isinstance(data.get("shipping"), dict) or "customer_note" in data:
        return "woocommerce"
    if "shipping_lines" in data or "total_price" in data or "order_number" in data or "financial_status" in data:
        return "shopify"
    if isinstance(data.get("line_items"), list):
        return "shopify" if any(isinstance(li, dict) and "quantity" in li and "variant_id" in li
                                for li in data["line_items"]) else "generic"
    return "generic"


def _meta(pairs: list[tuple[str, Any]]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in ((k, _s(v)) for k, v in pairs) if v is not None and v != ""]


def shopify(data: dict[str, Any]) -> dict[str, Any]:
    cust = _d(data.get("customer"))
    taxes_included = data.get("taxes_included") is True
    lines = []
    for raw in _l(data.get("line_items")):
        rates = [_f(t.get("rate"), -1) for t in _l(raw.get("tax_lines"))]
        rate = sum(r for r in rates if r >= 0) * 100 if rates else DEFAULT_RATE
        price = _f(raw.get("price"))
        if taxes_included and rate:
            price = price / (1 + rate / 100)
        lines.append({"sku": _s(raw.get("sku")) or "", "title": _s(raw.get("title", raw.get("name"))) or "",
                      "qty": _qty(raw.get("quantity")), "price": round(price, 4), "grams": _f(raw.get("grams")),
                      "total_discount": round(_f(raw.get("total_discount")), 2), "rate": rate,
                      "channel_variant_code": _s(raw.get("variant_id"))})
    ship_lines = _l(data.get("shipping_lines"))
    shipping = sum(_f(s.get("price")) for s in ship_lines)
    shipping_tax = sum(_f(t.get("price")) for s in ship_lines for t in _l(s.get("tax_lines")))
    if taxes_included:
        shipping -= shipping_tax
    notes = _s(data.get("note")) or ""
    meta = _meta([("order_number", data.get("order_number")), ("name", data.get("name")),
                  ("financial_status", data.get("financial_status")),
                  ("fulfillment_status", data.get("fulfillment_status")), ("currency", data.get("currency")),
                  ("shipping_method", ship_lines[0].get("title") if ship_lines else None)]
                 + [(str(a.get("name")), a.get("value")) for a in _l(data.get("note_attributes")) if a.get("name")])
    return {
        "code": _s(data.get("id")) or _s(data.get("order_number")) or _s(data.get("name")),
        "customer": {"channel_customer_code": _s(cust.get("id")) or "",
                     "email": _s(data.get("email")) or _s(cust.get("email")) or _s(data.get("contact_email")) or "",
                     "first_name": _s(cust.get("first_name")) or "", "last_name": _s(cust.get("last_name")) or ""},
        "line_items": lines, "shipping": round(shipping, 2), "shipping_tax": round(shipping_tax, 2),
        "shipping_address": _shopify_address(data.get("shipping_address")),
        "billing_address": _shopify_address(data.get("billing_address")),
        "notes": notes, "meta": meta, "channel": "shopify",
    }


def _shopify_address(raw: Any) -> dict[str, Any]:
    a = _d(raw)
    return {f: _s(a.get(f)) for f in ("address1", "address2", "city", "company", "country", "country_code",
                                      "first_name", "last_name", "phone", "province", "province_code", "zip")}


def woocommerce(data: dict[str, Any]) -> dict[str, Any]:
    billing = _d(data.get("billing"))
    lines = []
    for raw in _l(data.get("line_items")):
        qty = _qty(raw.get("quantity"))
        total = _f(raw.get("total"))
        subtotal = _f(raw.get("subtotal"), total)
        price = _f(raw.get("price"), (subtotal / qty) if qty else 0.0)
        tax = _f(raw.get("total_tax"))
        rate = round(tax / total * 100, 2) if total else DEFAULT_RATE
        lines.append({"sku": _s(raw.get("sku")) or "", "title": _s(raw.get("name")) or "", "qty": qty,
                      "price": round(price, 4), "grams": 0.0, "total_discount": round(max(subtotal - total, 0.0), 2),
                      "rate": rate, "channel_variant_code": _s(raw.get("variation_id") or raw.get("product_id"))})
    ship_lines = _l(data.get("shipping_lines"))
    shipping = sum(_f(s.get("total")) for s in ship_lines)
    shipping_tax = sum(_f(s.get("total_tax")) for s in ship_lines)
    meta = _meta([("id", data.get("id")), ("status", data.get("status")), ("currency", data.get("currency")),
                  ("payment_method", data.get("payment_method")),
                  ("shipping_method", ship_lines[0].get("method_title") if ship_lines else None)]
                 + [(str(m.get("key")), m.get("value")) for m in _l(data.get("meta_data"))
                    if m.get("key") and not str(m.get("key")).startswith("_")])
    return {
        "code": _s(data.get("number")) or _s(data.get("id")),
        "customer": {"channel_customer_code": _s(data.get("customer_id")) or "",
                     "email": _s(billing.get("email")) or "",
                     "first_name": _s(billing.get("first_name")) or "", "last_name": _s(billing.get("last_name")) or ""},
        "line_items": lines, "shipping": round(shipping, 2), "shipping_tax": round(shipping_tax, 2),
        "shipping_address": _woo_address(data.get("shipping")), "billing_address": _woo_address(billing),
        "notes": _s(data.get("customer_note")) or "", "meta": meta, "channel": "woocommerce",
    }


def _woo_address(raw: Any) -> dict[str, Any]:
    a = _d(raw)
    country = _s(a.get("country"))
    state = _s(a.get("state"))
    return {"address1": _s(a.get("address_1")), "address2": _s(a.get("address_2")) or None,
            "city": _s(a.get("city")), "company": _s(a.get("company")) or None,
            "country": country, "country_code": country, "first_name": _s(a.get("first_name")),
            "last_name": _s(a.get("last_name")), "phone": _s(a.get("phone")) or None,
            "province": state, "province_code": state, "zip": _s(a.get("postcode"))}


def generic(data: dict[str, Any]) -> dict[str, Any]:
    """An unknown channel's payload: a minimal order, the payload's top-level scalars kept as meta."""
    cust = _d(data.get("customer"))
    code = None
    for key in ("channel_order_code", "order_number", "number", "id"):
        code = _s(data.get(key))
        if code:
            break
    email = _s(cust.get("email")) or _s(data.get("email")) or ""
    lines = []
    for raw in _l(data.get("line_items")):
        lines.append({"sku": _s(raw.get("sku")) or "", "title": _s(raw.get("title", raw.get("name"))) or "",
                      "qty": _qty(raw.get("quantity", raw.get("qty", 1))), "price": round(_f(raw.get("price")), 4),
                      "grams": _f(raw.get("grams")), "total_discount": 0.0, "rate": DEFAULT_RATE,
                      "channel_variant_code": None})
    scalars = [(str(k), v) for k, v in data.items() if not isinstance(v, (dict, list))][:50]
    return {
        "code": code,
        "customer": {"channel_customer_code": _s(cust.get("id", cust.get("channel_customer_code"))) or "",
                     "email": email, "first_name": _s(cust.get("first_name")) or "",
                     "last_name": _s(cust.get("last_name")) or ""},
        "line_items": lines, "shipping": 0.0, "shipping_tax": 0.0,
        "shipping_address": _shopify_address(data.get("shipping_address")),
        "billing_address": _shopify_address(data.get("billing_address")),
        "notes": _s(data.get("note", data.get("notes"))) or "", "meta": _meta(scalars), "channel": "generic",
    }


def map_order(channel_type: str | None, payload: Any) -> dict[str, Any]:
    data = payload if isinstance(payload, dict) else {}
    kind = detect(channel_type, data)
    return {"shopify": shopify, "woocommerce": woocommerce}.get(kind, generic)(data)
