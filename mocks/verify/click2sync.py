"""Verify a Click2Sync custom storefront (the hooks a user implements) against the contract.

The storefront's hooks are ``BASE/product`` and ``BASE/order`` (``--products-path``,
``--orders-path`` change them). Checks: the key is enforced and sent back; paging invariants
(``itemsTotal`` stable, offsets advance by ``pageSize``, no item lost or repeated, ``id=``
agrees with the listing, ``next`` walks the same items); a partial update keeps the fields it did
not send; every answer has the documented shape and types; then schemathesis explores each
operation of the OpenAPI document with generated data.
"""
from __future__ import annotations

import json
import uuid
from typing import Any, Callable

from mocks.core.contracts import load_contract, public_document
from mocks.verify import CannotRun, Finding, Session, curl_of

PAGE_LIMIT = 500  # never walk more than this many pages


class Storefront:
    def __init__(self, base_url: str, key: str, products_path: str = "/product", orders_path: str = "/order",
                 timeout: float = 10.0) -> None:
        self.base = base_url.rstrip("/")
        self.key = key
        self.paths = {"product": products_path, "order": orders_path}
        self.http = Session(timeout)
        self.contract = load_contract("click2sync")

    def url(self, what: str, suffix: str = "") -> str:
        return self.base + self.paths[what] + suffix

    def get(self, what: str, params: dict[str, Any] | None = None, key: str | None = "default") -> Any:
        headers = {} if key is None else {"C2SKey": self.key if key == "default" else key}
        return self.http.request("GET", self.url(what), params=params, headers=headers)

    def post(self, what: str, body: Any, suffix: str = "") -> Any:
        return self.http.request("POST", self.url(what, suffix), json=body, headers={"C2SKey": self.key})

    def shape_errors(self, method: str, template: str, response: Any) -> list[str]:
        op = self.contract.match(method, template)
        documented, validator = op.response_validator(response.status_code, response.headers.get("Content-Type", ""))
        if not documented:
            return [f"status {response.status_code} is not documented for {op.operation_id}"]
        if validator is None:
            return []
        try:
            body = response.json()
        except ValueError:
            return ["the body is not JSON"]
        return [f"{e['pointer'].replace('/body', '', 1) or '/'}: {e['reason']}"
                for e in self.contract.validate_body(validator, body)]

    # -- checks -----------------------------------------------------------------------------
    def check_key_enforced(self) -> list[Finding]:
        findings = []
        for what in ("product", "order"):
            for label, key in (("without C2SKey", None), ("with a wrong C2SKey", f"wrong-{uuid.uuid4().hex[:8]}")):
                r = self.get(what, {"offset": 0}, key=key)
                if r.status_code != 401:
                    findings.append(Finding("key", "C2SKey is enforced",
                                            f"GET {self.paths[what]} {label} answered {r.status_code}, expected 401",
                                            curl_of(r)))
        return findings

    def check_key_echoed(self) -> list[Finding]:
        r = self.get("product", {"offset": 0})
        if r.headers.get("C2SKey") != self.key:
            return [Finding("key", "every response carries the key header back",
                            f"the response has C2SKey={r.headers.get('C2SKey')!r}", curl_of(r))]
        return []

    def walk(self, what: str, sortorder: str | None = None) -> tuple[list[Any], list[Finding]]:
        key = what + "s"
        template = f"/api/{what}"
        items: list[Any] = []
        findings: list[Finding] = []
        offset, total, size = 0, None, None
        for _ in range(PAGE_LIMIT):
            params: dict[str, Any] = {"offset": offset}
            if sortorder:
                params["sortorder"] = sortorder
            r = self.get(what, params)
            if r.status_code != 200:
                findings.append(Finding("paging", "listing pages answer 200",
                                        f"offset={offset} answered {r.status_code}", curl_of(r)))
                break
            for problem in self.shape_errors("GET", template, r):
                findings.append(Finding("types", "pages have the documented shape and types", problem, curl_of(r)))
            body = r.json()
            paging, page = body.get("paging", {}), body.get(key, [])
            if not isinstance(paging, dict) or not isinstance(page, list):
                break
            size = paging.get("pageSize") if size is None else size
            if total is None:
                total = paging.get("itemsTotal")
            elif paging.get("itemsTotal") != total:
                findings.append(Finding("paging", "itemsTotal is stable across pages",
                                        f"itemsTotal was {total}, then {paging.get('itemsTotal')} at offset {offset}",
                                        curl_of(r)))
            if paging.get("offset") != offset:
                findings.append(Finding("paging", "paging.offset echoes the requested offset",
                                        f"asked offset={offset}, got {paging.get('offset')}", curl_of(r)))
            if not isinstance(size, int) or size <= 0 or not isinstance(total, int):
                findings.append(Finding("paging", "pageSize and itemsTotal are integers",
                                        f"pageSize={size!r} itemsTotal={total!r}", curl_of(r)))
                break
            expected = max(0, min(size, total - offset))
            if len(page) != expected:
                findings.append(Finding("paging", "each page holds min(pageSize, itemsTotal - offset) items",
                                        f"offset={offset}: {len(page)} items, expected {expected}", curl_of(r)))
            items += page
            if not page or offset + size >= total:
                break
            offset += size  # offsets advance by pageSize
        if total is not None and not findings:
            # a store that under-counts (itemsTotal = the page's length, say) still has items past it
            params = {"offset": total, **({"sortorder": sortorder} if sortorder else {})}
            r = self.get(what, params)
            extra = r.json().get(key) if r.status_code == 200 else None
            if isinstance(extra, list) and extra:
                findings.append(Finding("paging", "itemsTotal counts every item",
                                        f"itemsTotal={total}, but offset={total} still answered {len(extra)} items",
                                        curl_of(r)))
        ids = [i.get("_id") for i in items if isinstance(i, dict)]
        dupes = sorted({i for i in ids if ids.count(i) > 1}, key=str)
        if dupes:
            findings.append(Finding("paging", "no item is repeated across pages",
                                    f"repeated _id: {dupes[:10]}"))
        if total is not None and len(set(ids)) != total:
            findings.append(Finding("paging", "no item is lost across pages",
                                    f"itemsTotal={total} but the pages held {len(set(ids))} distinct items"))
        return items, findings

    def check_paging(self, what: str) -> list[Finding]:
        items, findings = self.walk(what)
        if findings:
            return findings
        desc, more = self.walk(what, "desc")
        findings += more
        if {i["_id"] for i in desc} != {i["_id"] for i in items}:
            findings.append(Finding("paging", "sortorder=desc lists the same items",
                                    "asc and desc listings differ in their items"))
        findings += self.check_next(what, items)
        findings += self.check_id(what, items)
        return findings

    def check_next(self, what: str, items: list[Any]) -> list[Finding]:
        r = self.get(what, {"offset": 0})
        tag = r.json().get("paging", {}).get("next")
        if tag is None:
            return []  # the step tag is optional
        walked = list(r.json().get(what + "s", []))
        for _ in range(PAGE_LIMIT):
            if not tag:
                break
            r = self.get(what, {"next": tag})
            if r.status_code != 200:
                return [Finding("paging", "next step tags lead to the following page",
                                f"next={tag} answered {r.status_code}", curl_of(r))]
            walked += r.json().get(what + "s", [])
            tag = r.json().get("paging", {}).get("next")
        if [i.get("_id") for i in walked] != [i.get("_id") for i in items]:
            return [Finding("paging", "next step tags walk the same items as offsets",
                            f"{len(walked)} items by next, {len(items)} by offset, or in another order")]
        return []

    def check_id(self, what: str, items: list[Any]) -> list[Finding]:
        findings = []
        sample = [items[i] for i in sorted({0, len(items) // 2, len(items) - 1}) if 0 <= i < len(items)]
        for item in sample:
            r = self.get(what, {"id": item["_id"]})
            listed = r.json().get(what + "s", []) if r.status_code == 200 else None
            if listed != [item]:
                findings.append(Finding("id", "id= agrees with the listing",
                                        f"id={item['_id']} answered {r.status_code} {str(listed)[:300]}", curl_of(r)))
        return findings

    def check_partial_update(self) -> list[Finding]:
        sku = f"verify-{uuid.uuid4().hex[:10]}"
        product = {"sku": sku, "title": "commerce-sandbox verify", "brand": "Verify", "description": "before",
                   "tags": [{"value": "verify"}],
                   "variations": [{"availabilities": [{"tag": "default", "quantity": "5"}],
                                   "prices": [{"tag": "default", "currency": "USD", "number": "10.50"}],
                                   "images": [{"url": "http://www.example.com/verify.jpg"}], "videos": [],
                                   "barcode": "", "size": "", "color": ""}]}
        r = self.post("product", product)
        if r.status_code != 200:
            return [Finding("update", "a new product can be added", f"POST answered {r.status_code}", curl_of(r))]
        findings = [Finding("types", "the created product has the documented shape", p, curl_of(r))
                    for p in self.shape_errors("POST", "/api/product", r)]
        created = r.json()
        r = self.post("product", {"description": "after"}, suffix=f"/{created.get('_id')}")
        if r.status_code != 200:
            return findings + [Finding("update", "a product can be updated", f"answered {r.status_code}", curl_of(r))]
        updated = r.json()
        for key in ("sku", "title", "brand", "tags", "variations"):
            if updated.get(key) != created.get(key):
                findings.append(Finding("update", "a partial update keeps the fields it did not send",
                                        f"{key} changed from {json.dumps(created.get(key))[:200]} "
                                        f"to {json.dumps(updated.get(key))[:200]}", curl_of(r)))
        if updated.get("description") != "after":
            findings.append(Finding("update", "a partial update changes the fields it sent",
                                    f"description is {updated.get('description')!r}", curl_of(r)))
        r = self.get("product", {"id": created.get("_id")})
        if r.status_code != 200 or (r.json().get("products") or [None])[0] != updated:
            findings.append(Finding("update", "the update answer is what is stored",
                                    "GET ?id= differs from the update's answer", curl_of(r)))
        return findings

    def contract_verifier(self, read_only: bool = False) -> Any:
        """The OpenAPI contract on the user's hook paths, explored like any emulated API's."""
        from mocks.verify.emulated import Credentials, Emulated

        doc = public_document(self.contract, self.base)
        rename = {"/api/product": self.paths["product"], "/api/order": self.paths["order"]}
        doc["paths"] = {next((new + p[len(old):] for old, new in rename.items() if p.startswith(old)), p): v
                        for p, v in doc["paths"].items()}
        verifier = Emulated("click2sync", self.base, Credentials(headers={"C2SKey": self.key}), self.http.timeout,
                            read_only=read_only, document=doc)
        verifier.progress = getattr(self, "progress", verifier.progress)
        return verifier

    def check_schemathesis(self, max_examples: int, read_only: bool = False) -> list[Finding]:
        """Every operation with generated valid data: not_a_server_error, status_code_conformance,
        content_type_conformance, response_schema_conformance (one finding per operation and rule)."""
        return self.contract_verifier(read_only).explore(max_examples)

    def check_stateful(self, runs: int) -> list[Finding]:
        """create -> read by id -> update through the document's OpenAPI links."""
        return self.contract_verifier().stateful(runs)


def add_arguments(parser: Any) -> None:
    parser.add_argument("--key", required=True, help="the storefront's C2SKey")
    parser.add_argument("--products-path", default="/product", help="the products hook, under --base-url")
    parser.add_argument("--orders-path", default="/order", help="the orders hook, under --base-url")
    parser.add_argument("--read-only", action="store_true", help="skip checks that write (create/update)")
    parser.add_argument("--max-examples", type=int, default=25, help="schemathesis examples per operation (0: skip)")
    parser.add_argument("--stateful-runs", type=int, default=None,
                        help="stateful scenarios through the links (default: a fifth of --max-examples)")


def checks(args: Any) -> list[tuple[str, Callable[[], list[Finding]]]]:
    if not args.key:
        raise CannotRun("verify click2sync needs --key (the storefront's C2SKey)")
    store = Storefront(args.base_url, args.key, args.products_path, args.orders_path, args.timeout)
    store.progress = lambda text: getattr(args, "progress", None) and args.progress(text)
    store.get("product", {"offset": 0})  # reachable at all? raises CannotRun
    out = [
        ("C2SKey enforced", store.check_key_enforced),
        ("C2SKey sent back", store.check_key_echoed),
        ("product paging", lambda: store.check_paging("product")),
        ("order paging", lambda: store.check_paging("order")),
    ]
    if not args.read_only:
        out.append(("partial update", store.check_partial_update))
    if args.max_examples > 0:
        out.append(("schemathesis", lambda: store.check_schemathesis(args.max_examples, args.read_only)))
        runs = args.stateful_runs if args.stateful_runs is not None else max(1, args.max_examples // 5)
        if not args.read_only and runs > 0:
            out.append(("stateful (links)", lambda: store.check_stateful(runs)))
    return out
