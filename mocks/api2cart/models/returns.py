"""API2Cart returns (``order.return.*`` and the reason/status/action lists), with the platform
rules the FAQ names: Shopify's return workflow, Bol.com's handling statuses."""
from __future__ import annotations

import copy
from typing import Any

from mocks.api2cart import errors as X
from mocks.api2cart.models.base import StoreBase, listing, shape_fields
from mocks.api2cart.models.paging import date_filters, id_key
from mocks.api2cart.models.params import Params, plain_date, public

RETURN_DEFAULT = "id,order_products"
RETURN_SHAPE = shape_fields(RETURN_DEFAULT)
RETURN_STATUSES = {"pending": "Pending", "approved": "Approved", "rejected": "Rejected", "completed": "Completed"}
#: Shopify's return workflow (FAQ: "You can't specify any return status on Shopify. Shopify has a clear
#: return workflow"): Shopify's Return.status values and the moves its admin API allows
#: (returnApproveRequest / returnDeclineRequest on a request, returnClose / returnCancel on an open
#: return, returnReopen on a closed one). A new return is "requested" or "open" (returnCreate).
SHOPIFY_RETURN_STATUSES = {"requested": "Requested", "open": "Open", "closed": "Closed", "declined": "Declined",
                           "canceled": "Canceled"}
SHOPIFY_RETURN_FLOW = {"requested": {"open", "declined"}, "open": {"closed", "canceled"}, "closed": {"open"},
                       "declined": set(), "canceled": set()}
SHOPIFY_RETURN_START = ("requested", "open")
#: Bol.com handling results (FAQ: order_product_handling_status is required on Bol.com; the possible
#: values are listed in the error text) - the Bol Retailer API's handlingResult values.
BOL_HANDLING_STATUSES = ("RETURN_RECEIVED", "EXCHANGE_PRODUCT", "RETURN_DOES_NOT_MEET_CONDITIONS", "REPAIR_PRODUCT",
                         "CUSTOMER_KEEPS_PRODUCT_PAID", "STILL_APPROVED")


#: FAQ: "Only shipped goods can be returned." Every unit of an order in one of these statuses has
#: left the store; in any other status (pending, processing, on_hold) only the units its shipments
#: carried can be returned, and a canceled order has nothing to return.
SHIPPED_ORDER_STATUSES = ("shipped", "complete", "refunded")


def return_statuses(cart_id: str) -> dict[str, str]:
    return SHOPIFY_RETURN_STATUSES if cart_id == "Shopify" else RETURN_STATUSES


RETURN_ACTIONS = {"refund": "Refund", "replace": "Replace", "store_credit": "Store credit"}
RETURN_REASONS = {"defective": "Defective", "wrong_item": "Wrong item", "not_as_described": "Not as described",
                  "no_longer_needed": "No longer needed", "other": "Other"}


class Returns(StoreBase):
    """Returns of one store's orders."""

    def _return_products(self, order: dict[str, Any], raw: Any, default_reason: str | None,
                         default_action: str | None, existing: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        if not isinstance(raw, list) or not raw:
            raise X.required("order_products")
        bol = self.cart_id == "Bol"
        out = []
        for ep, opid, item in self._order_lines(raw, order, "order_products"):
            qty = ep.int("order_product_quantity", 1)
            if not qty or qty > int(item.get("quantity") or 0):
                raise X.A2CError(109, f"Parameter 'order_product_quantity' is not valid. At most {item.get('quantity')} "
                                      f"unit(s) of order product '{opid}' can be returned.")
            before = (existing or {}).get(opid) or {}
            extra: dict[str, Any] = {}
            if bol:  # FAQ: reason ids are not supported on Bol.com; the handling status is required
                # The official schema still requires order_product_reason_id, so a client built on it
                # always sends one: on Bol.com it is not looked up (return.reason.list answers 115) and
                # is kept as the reason's text; the reason never has an id.
                handling = ep.str("order_product_handling_status") or before.get("additional_fields", {}).get("handling_status")
                if handling is None:
                    raise X.required("order_product_handling_status")
                if handling not in BOL_HANDLING_STATUSES:
                    raise X.not_allowed("order_product_handling_status", BOL_HANDLING_STATUSES)
                extra["additional_fields"] = {"handling_status": handling}
                text = (ep.str("order_product_reason") or ep.str("order_product_reason_id")
                        or (before.get("reason") or {}).get("name") or "")
                reason = {"id": "", "name": text}
                action_id = ep.str("order_product_action_id") or default_action or (before.get("action") or {}).get("id")
                action = _lookup("order_product_action_id", action_id, RETURN_ACTIONS) if action_id else None
            else:
                if "order_product_handling_status" in ep:
                    raise X.A2CError(109, "Parameter 'order_product_handling_status' is supported only on Bol.com.")
                reason = _lookup("order_product_reason_id", ep.str("order_product_reason_id") or default_reason
                                 or (before.get("reason") or {}).get("id"), RETURN_REASONS)
                action = _lookup("order_product_action_id", ep.str("order_product_action_id") or default_action
                                 or (before.get("action") or {}).get("id"), RETURN_ACTIONS)
            out.append({"product_id": item.get("product_id"), "order_product_id": opid, "sku": item.get("model"),
                        "name": item.get("name"), "quantity": qty, "reason": reason, "action": action,
                        "condition": ep.str("order_product_condition"),
                        "customer_comment": ep.str("order_product_customer_comment"), **extra})
        return out

    def _check_left(self, order: dict[str, Any], products: list[dict[str, Any]], skip: str | None = None) -> None:
        returned = self._returned_quantities(order["id"], skip=skip)
        for prod in products:
            limit = next(int(i.get("quantity") or 0) for i in order["order_products"]
                         if i["order_product_id"] == prod["order_product_id"])
            if returned.get(prod["order_product_id"], 0) + prod["quantity"] > limit:
                raise X.exists(f"A return for order product '{prod['order_product_id']}' of order '{order['id']}' "
                               "already exists")

    def _check_shipped(self, order: dict[str, Any], products: list[dict[str, Any]], skip: str | None = None) -> None:
        """FAQ: "Only shipped goods can be returned" (109 naming the order's status)."""
        status = order["status"]["id"]
        if status in SHIPPED_ORDER_STATUSES:
            return
        shipped = {} if status == "canceled" else self._shipped(order["id"])
        returned = self._returned_quantities(order["id"], skip=skip)
        for prod in products:
            opid = prod["order_product_id"]
            if returned.get(opid, 0) + prod["quantity"] > shipped.get(opid, 0):
                raise X.A2CError(109, f"Only shipped goods can be returned. Order '{order['id']}' is '{status}' and "
                                      f"{shipped.get(opid, 0):g} unit(s) of order product '{opid}' have been shipped.")

    def return_add(self, p: Params) -> dict[str, Any]:
        oid = p.need("order_id")  # FAQ: "For all platforms, order_id and order_products must be specified"
        order = self._order(oid)
        statuses = return_statuses(self.cart_id)
        status = _lookup("return_status_id", p.need("return_status_id"), statuses)
        if self.cart_id == "Shopify" and status["id"] not in SHOPIFY_RETURN_START:
            raise X.A2CError(109, f"Parameter 'return_status_id' is not valid. A new Shopify return can only be "
                                  f"{' or '.join(SHOPIFY_RETURN_START)}.")
        action = p.need("return_action_id")
        _lookup("return_action_id", action, RETURN_ACTIONS)
        reason = p.need("return_reason_id")
        if self.cart_id != "Bol":
            _lookup("return_reason_id", reason, RETURN_REASONS)
        else:  # Bol.com has no reason ids: the document requires the field; it is not looked up
            reason = None
        products = self._return_products(order, p.get("order_products"), reason, action)
        self._check_shipped(order, products)
        self._check_left(order, products)
        rid = str(self.state.next_id("return", start=1))
        now = self.state.now()
        ret = {"id": rid, "name": f"#{rid}", "order_id": oid, "customer_id": order["customer"]["id"] or None,
               "store_id": "1", "created_at": plain_date(now), "modified_at": plain_date(now), "status": status,
               "order_products": products, "comment": p.str("comment"), "staff_note": p.str("staff_note"),
               "_ts": {"created": now, "modified": now}}
        self.returns.put(rid, ret)
        self._sync_return_status(oid)
        self.emit("order.return", "add", public(ret))
        return {"return_id": rid}

    def _returned_quantities(self, oid: str, skip: str | None = None) -> dict[str, int]:
        out: dict[str, int] = {}
        for ret in self.returns.values():
            if ret["order_id"] != oid or ret["id"] == skip:
                continue
            for prod in ret["order_products"]:
                out[prod["order_product_id"]] = out.get(prod["order_product_id"], 0) + prod["quantity"]
        return out

    def _sync_return_status(self, oid: str) -> None:
        """``additional_fields.return_status`` of the order: ``no_return`` until a return exists, then
        the status of its latest return (FAQ, "return_status")."""
        mine = sorted((r for r in self.returns.values() if r["order_id"] == oid), key=id_key)
        value = mine[-1]["status"]["id"] if mine else "no_return"

        def apply(old: dict[str, Any] | None) -> dict[str, Any] | None:
            if old is None or (old.get("additional_fields") or {}).get("return_status") == value:
                return old
            new = copy.deepcopy(old)
            new["additional_fields"] = {**(new.get("additional_fields") or {}), "return_status": value}
            return new

        self.orders.update(oid, apply)

    def return_update(self, p: Params) -> dict[str, Any]:
        rid = p.need("return_id")
        current = self.returns.lookup(rid)
        if current is None or ("order_id" in p and current["order_id"] != p.str("order_id")):
            raise X.not_found("Return", rid)
        order = self._order(current["order_id"])
        status = None
        if "return_status_id" in p:
            status = _lookup("return_status_id", p.str("return_status_id"), return_statuses(self.cart_id))
            old_id = current["status"]["id"]
            if self.cart_id == "Shopify" and status["id"] != old_id and status["id"] not in SHOPIFY_RETURN_FLOW.get(old_id, set()):
                allowed = sorted(SHOPIFY_RETURN_FLOW.get(old_id, set()))
                raise X.A2CError(109, f"Parameter 'return_status_id' is not valid. On Shopify a '{old_id}' return can "
                                      f"move to: {', '.join(allowed) if allowed else 'nothing (final status)'}.")
        products = self._return_products(order, p.get("order_products"), p.str("return_reason_id"),
                                         p.str("return_action_id"),
                                         {x["order_product_id"]: x for x in current["order_products"]})
        self._check_shipped(order, products, skip=rid)
        self._check_left(order, products, skip=rid)

        def edit(new: dict[str, Any]) -> None:
            by_id = {x["order_product_id"]: x for x in new["order_products"]}
            for prod in products:
                by_id[prod["order_product_id"]] = prod
            new["order_products"] = list(by_id.values())
            if status is not None:
                new["status"] = status
            for name in ("comment", "staff_note"):
                if name in p:
                    new[name] = p.str(name)

        ret = self._change(self.returns, "Return", rid, edit, date=plain_date)
        self._sync_return_status(ret["order_id"])
        self.emit("order.return", "update", public(ret))
        return {"updated_items": 1}

    def return_delete(self, p: Params) -> dict[str, Any]:
        rid, oid = p.need("return_id"), p.need("order_id")
        self._record(self.returns, "Return", rid, keep=lambda r: r["order_id"] == oid)
        self.returns.delete(rid)
        self._sync_return_status(oid)
        self.emit("order.return", "delete", {"id": rid, "order_id": oid})
        return {"deleted": True}

    def _return_filter(self, p: Params) -> list[dict[str, Any]]:
        ids = p.ids("order_ids") or ([p.str("order_id")] if "order_id" in p else None)
        if self.cart_id == "Shopify" and ids is None:
            # FAQ: "For Shopify, you must specify the order_id or order_ids parameter"
            raise X.A2CError(114, "Parameter 'order_id' or 'order_ids' is required for Shopify")
        items = self.returns.values()
        if ids is not None:
            items = [i for i in items if i["order_id"] in ids]
        if "customer_id" in p:
            items = [i for i in items if i.get("customer_id") == p.str("customer_id")]
        if "status" in p:
            items = [i for i in items if i["status"]["id"] == p.str("status")]
        return sorted(date_filters(items, p, "created", "modified"), key=id_key)

    def return_list(self, p: Params) -> tuple[dict[str, Any], dict[str, Any]]:
        return listing(p, lambda: self._return_filter(p), RETURN_SHAPE, "total_count", "returns")

    def return_info(self, p: Params) -> dict[str, Any]:
        ret = self._record(self.returns, "Return", p.need("id"),
                           keep=lambda r: "order_id" not in p or r["order_id"] == p.str("order_id"))
        return RETURN_SHAPE(ret, p)

    def return_count(self, p: Params) -> dict[str, Any]:
        return {"returns_count": len(self._return_filter(p))}

    def return_reasons(self) -> dict[str, Any]:
        if self.cart_id == "Bol":  # FAQ: return reasons (ids) are not supported on Bol.com
            raise X.not_supported("return.reason.list", self.cart_id)
        return {"return_reasons": [{"id": k, "name": v} for k, v in RETURN_REASONS.items()]}

    def return_status_list(self) -> dict[str, Any]:
        return {"return_statuses": [{"id": k, "name": v} for k, v in return_statuses(self.cart_id).items()]}

    def return_action_list(self) -> dict[str, Any]:
        return {"return_actions": [{"id": k, "name": v} for k, v in RETURN_ACTIONS.items()]}


def _lookup(name: str, value: str | None, table: dict[str, str]) -> dict[str, str]:
    if value is None:
        raise X.required(name)
    key = value.strip().lower()
    if key not in table:
        raise X.not_allowed(name, table)
    return {"id": key, "name": table[key]}
