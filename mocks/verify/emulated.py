"""Verify an emulated API (Stock2Shop, PrintXpand, API2Cart, XTND) against the sandbox's contract.

A user with access to the real service points ``verify API --base-url`` at it (or at any other
implementation, this sandbox included) and gets the same contract the sandbox is held to: the
bundled OpenAPI document of that API (``schemas/{api}/openapi.yaml``), explored by schemathesis with
the API's own credentials. The base URL is the API's root, the one its documented paths hang from
(for the sandbox: ``http://127.0.0.1:8080/stock2shop``; for the real Stock2Shop:
``https://app.stock2shop.com``).

Checks:
- credentials are enforced: operations answer the API's own auth error without credentials and
  with wrong ones (401/403; API2Cart answers 200 with a non-zero ``return_code``, as it documents);
- schemathesis per operation (``--max-examples`` each, fixed seed): not_a_server_error,
  status_code_conformance, content_type_conformance, response_schema_conformance; ``--negative``
  adds invalid data (negative_data_rejection) and positive_data_acceptance;
- the stateful phase through the document's OpenAPI links (create -> read -> update -> delete),
  unless ``--read-only`` (which keeps to GET operations and never writes).

Each finding names the operation and the broken rule (the schemathesis check) and carries the
request as a curl line.
"""
from __future__ import annotations

import copy
import re
import threading
from typing import Any, Callable

import requests

from mocks.core.contracts import load_contract, public_document
from mocks.verify import CannotRun, Finding, curl, request_error

TARGETS = ("stock2shop", "printxpand", "api2cart", "xtnd")
# a GET that creates (PrintXpand's order/create by GET) is not read-only
CREATE_WORDS = re.compile(r"create|add|advance|delete|update|set", re.IGNORECASE)
FINDINGS_PER_RULE = 1  # one example per (operation, rule): the first one found


def add_arguments(parser: Any, target: str | None = None) -> None:
    parser.add_argument("--max-examples", type=int, default=10,
                        help="schemathesis examples per operation (0: skip the exploration)")
    parser.add_argument("--read-only", action="store_true",
                        help="GET operations only, no stateful phase: nothing is created or changed")
    parser.add_argument("--negative", action="store_true",
                        help="also send invalid data (negative_data_rejection, positive_data_acceptance)")
    parser.add_argument("--operation", metavar="REGEX", help="only operations whose operationId or path matches")
    parser.add_argument("--exclude-operation", metavar="REGEX", help="skip operations whose operationId or path matches")
    parser.add_argument("--stateful-runs", type=int, default=None,
                        help="stateful scenarios through the links (default: a third of --max-examples)")
    if target in (None, "stock2shop"):
        parser.add_argument("--username", help="Stock2Shop user (authenticated for a token)")
        parser.add_argument("--password", help="Stock2Shop password")
        parser.add_argument("--token", dest="s2s_token", help="Stock2Shop: an existing token instead of a user")
    if target in (None, "printxpand"):
        parser.add_argument("--bearer", help="PrintXpand integration access token, sent as a bearer token")
        parser.add_argument("--consumer-key", help="PrintXpand OAuth 1.0a consumer key")
        parser.add_argument("--consumer-secret", help="PrintXpand OAuth 1.0a consumer secret")
        parser.add_argument("--token", dest="oauth_token", help="PrintXpand OAuth 1.0a access token")
        parser.add_argument("--token-secret", help="PrintXpand OAuth 1.0a access token secret")
        parser.add_argument("--signature-method", default="HMAC-SHA1", choices=["HMAC-SHA1", "HMAC-SHA256"],
                            help="PrintXpand OAuth 1.0a signature method")
    if target in (None, "api2cart"):
        parser.add_argument("--api-key", help="API2Cart account API key")
        parser.add_argument("--store-key", help="API2Cart store key")
    if target == "xtnd":
        parser.add_argument("--api-key", help="XTND API key (sent as a bearer token)")


# -- credentials ---------------------------------------------------------------------------------
class Credentials(requests.auth.AuthBase):
    """Puts the API's credentials on a prepared request; ``wrong()`` gives a rejected variant."""

    def __init__(self, headers: dict[str, str] | None = None, query: dict[str, str] | None = None,
                 oauth1: dict[str, str] | None = None, drop_query: tuple[str, ...] = ()) -> None:
        self.headers = headers or {}
        self.query = query or {}
        self.oauth1 = oauth1
        self.drop_query = drop_query  # generated values of another security scheme's parameters

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        if self.query or self.drop_query:
            from urllib.parse import parse_qsl, urlencode, urlparse

            url = urlparse(r.url)
            drop = {*self.query, *self.drop_query}
            pairs = [(k, v) for k, v in parse_qsl(url.query, keep_blank_values=True) if k not in drop]
            pairs += list(self.query.items())
            r.url = url._replace(query=urlencode(pairs)).geturl()
        for name, value in self.headers.items():
            r.headers[name] = value
        if self.oauth1:
            r = self._sign(r)
        return r

    def _sign(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        from oauthlib.oauth1 import Client

        o = self.oauth1 or {}
        client = Client(o["consumer_key"], client_secret=o["consumer_secret"], resource_owner_key=o["token"],
                        resource_owner_secret=o["token_secret"], signature_method=o.get("method", "HMAC-SHA1"))
        ctype = r.headers.get("Content-Type", "")
        form = ctype.startswith("application/x-www-form-urlencoded")
        body = r.body if form else None  # a JSON body is not signed (Magento's OAuth)
        if isinstance(body, bytes):
            body = body.decode("utf-8")
        headers = {"Content-Type": ctype} if form else {}
        try:
            _, signed, _ = client.sign(r.url, r.method, body or None, headers)
        except ValueError:  # a generated form body oauthlib cannot decode: sign the URL alone
            _, signed, _ = client.sign(r.url, r.method, None, {})
        r.headers["Authorization"] = signed["Authorization"]
        return r

    def without(self) -> "Credentials":
        return Credentials(drop_query=self.drop_query)

    def wrong(self) -> "Credentials":
        flip = lambda v: "0" * 8 + v[8:] if len(v) > 8 else "wrong-" + v  # noqa: E731
        oauth1 = {**self.oauth1, "token": flip(self.oauth1["token"])} if self.oauth1 else None
        headers = {k: (v.split(" ", 1)[0] + " " + flip(v.split(" ", 1)[1]) if " " in v else flip(v))
                   for k, v in self.headers.items()}
        return Credentials(headers, {k: flip(v) for k, v in self.query.items()}, oauth1, self.drop_query)


def credentials(args: Any, base: str, timeout: float) -> Credentials:
    api = args.target
    if api == "stock2shop":
        token = getattr(args, "s2s_token", None)
        if not token:
            if not (args.username and args.password):
                raise CannotRun("verify stock2shop needs --username and --password (or --token)")
            url = base + "/v1/users/authenticate"
            try:
                r = requests.post(url, params={"format": "json"}, timeout=timeout,
                                  json={"system_user_auth": {"username": args.username, "password": args.password}})
            except requests.RequestException as exc:
                raise CannotRun(request_error("POST", url, exc)) from None
            try:
                token = r.json()["system_user"]["token"]
            except (ValueError, KeyError, TypeError):
                raise CannotRun(f"authentication failed: POST {url} answered {r.status_code} "
                                f"{r.text[:200]}") from None
        return Credentials(query={"token": token})
    if api == "printxpand":
        if args.bearer:
            return Credentials(headers={"Authorization": f"Bearer {args.bearer}"})
        parts = (args.consumer_key, args.consumer_secret, args.oauth_token, args.token_secret)
        if not all(parts):
            raise CannotRun("verify printxpand needs --bearer, or --consumer-key, --consumer-secret, --token "
                            "and --token-secret (OAuth 1.0a)")
        return Credentials(oauth1={"consumer_key": parts[0], "consumer_secret": parts[1], "token": parts[2],
                                   "token_secret": parts[3], "method": args.signature_method})
    if api == "api2cart":
        if not (args.api_key and args.store_key):
            raise CannotRun("verify api2cart needs --api-key and --store-key")
        # headers; generated values for the query alternative (api_key=, store_key=) are dropped
        return Credentials(headers={"x-api-key": args.api_key, "x-store-key": args.store_key},
                           drop_query=("api_key", "store_key"))
    if api == "xtnd":
        if not args.api_key:
            raise CannotRun("verify xtnd needs --api-key")
        return Credentials(headers={"Authorization": f"Bearer {args.api_key}"})
    raise CannotRun(f"unknown target {api}")


# API2Cart's return codes that refuse credentials: incorrect API key, store access denied, API access
# denied, API key disabled, incorrect store key
API2CART_AUTH_CODES = {2, 4, 5, 6, 101}


def rejected(api: str, response: requests.Response) -> bool:
    """Did the API refuse the credentials, in its own documented way?"""
    if response.status_code in (401, 403):
        return True
    if api == "api2cart" and response.status_code == 200:
        try:  # API2Cart answers HTTP 200 with an error return_code
            return response.json().get("return_code") in API2CART_AUTH_CODES
        except (ValueError, AttributeError):
            return False
    return False


# -- the verifier -------------------------------------------------------------------------------
class Emulated:
    def __init__(self, api: str, base_url: str, creds: Credentials, timeout: float = 10.0,
                 include: str | None = None, exclude: str | None = None, read_only: bool = False,
                 document: dict[str, Any] | None = None) -> None:
        self.api = api
        self.base = base_url.rstrip("/")
        self.creds = creds
        self.timeout = timeout
        self.read_only = read_only
        self.contract = load_contract(api)
        # the contract as served, or a variant (click2sync: the user's own hook paths)
        self.document = document if document is not None else public_document(self.contract, self.base)
        keep = {}
        for path, item in self.document["paths"].items():
            ops = {}
            for method, op in item.items():
                if method not in ("get", "post", "put", "patch", "delete"):
                    ops[method] = op
                    continue
                label = f"{op.get('operationId', '')} {method.upper()} {path}"
                if include and not re.search(include, label):
                    continue
                if exclude and re.search(exclude, label):
                    continue
                if read_only and (method != "get" or CREATE_WORDS.search(op.get("operationId", ""))):
                    continue
                ops[method] = op
            if any(m in ops for m in ("get", "post", "put", "patch", "delete")):
                keep[path] = ops
        self.document["paths"] = keep
        self._drop_dangling_links()
        self.http = requests.Session()
        self._lock = threading.Lock()
        self.progress: Callable[[str], Any] = lambda text: None

    def _drop_dangling_links(self) -> None:
        """Links to operations left out (--operation, --read-only) would make the state machine invalid."""
        kept = {op.get("operationId") for _, _, op in self.operations()}
        responses = (self.document.get("components") or {}).get("responses") or {}
        shared = list(responses.values())
        for _, _, op in self.operations():
            for name, response in list((op.get("responses") or {}).items()):
                if "$ref" in response or not response.get("links"):
                    continue
                links = {k: v for k, v in response["links"].items()
                         if v.get("operationId") in kept or "operationRef" in v}
                op["responses"][name] = {**response, "links": links}
        for response in shared:
            if response.get("links"):
                response["links"] = {k: v for k, v in response["links"].items()
                                     if v.get("operationId") in kept or "operationRef" in v}

    def operations(self) -> list[tuple[str, str, dict[str, Any]]]:
        return [(m, p, op) for p, item in self.document["paths"].items() for m, op in item.items()
                if m in ("get", "post", "put", "patch", "delete")]

    # -- credentials enforced ------------------------------------------------------------------
    def probe_targets(self) -> list[tuple[str, str, dict[str, Any]]]:
        """Secured operations to send without and with wrong credentials: reads first (path
        parameters get a placeholder); an API without reads (PrintXpand) gets its writes probed,
        which is harmless as they are refused before anything happens."""
        secured = [(m, p, op) for m, p, op in self.operations() if op.get("security") != []]
        reads = [t for t in secured if t[0] == "get" and not CREATE_WORDS.search(t[2].get("operationId", ""))]
        pool = reads or secured
        pool.sort(key=lambda t: (t[0] != "get", t[1].count("{"), t[1]))
        return pool[:4]

    def check_credentials(self) -> list[Finding]:
        findings = []
        for method, path, op in self.probe_targets():
            url = self.base + re.sub(r"\{[^}]+\}", "1", path)
            for label, auth in (("without credentials", self.creds.without()),
                                ("with wrong credentials", self.creds.wrong())):
                try:
                    r = self.http.request(method.upper(), url, auth=auth, timeout=self.timeout)
                except requests.RequestException as exc:
                    raise CannotRun(request_error(method.upper(), url, exc)) from None
                if not rejected(self.api, r):
                    findings.append(Finding(
                        "credentials", "credentials are enforced",
                        f"{op.get('operationId')} ({method.upper()} {path}) {label} answered {r.status_code} "
                        f"{r.text[:200]!r}; expected the API's authentication error",
                        curl_of_prepared(r.request)))
            if method != "get" or "{" in path or CREATE_WORDS.search(op.get("operationId", "")):
                continue
            try:  # the given credentials must be accepted, or nothing below means anything
                r = self.http.request(method.upper(), url, auth=self.creds, timeout=self.timeout)
            except requests.RequestException as exc:
                raise CannotRun(request_error(method.upper(), url, exc)) from None
            if rejected(self.api, r):
                raise CannotRun(f"the credentials were refused: {method.upper()} {url} answered {r.status_code} "
                                f"{r.text[:200]}")
        return findings

    # -- schemathesis -------------------------------------------------------------------------
    def schema(self, negative: bool = False) -> Any:
        import schemathesis
        from schemathesis.generation import GenerationMode

        schema = schemathesis.openapi.from_dict(copy.deepcopy(self.document))
        schema.config.generation.update(modes=[GenerationMode.NEGATIVE if negative else GenerationMode.POSITIVE],
                                        allow_extra_parameters=False)
        return schema

    def checks(self, negative: bool) -> list[Any]:
        from schemathesis.checks import (
            content_type_conformance, negative_data_rejection, not_a_server_error, positive_data_acceptance,
            response_schema_conformance, status_code_conformance)

        base = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
        return base + ([negative_data_rejection, positive_data_acceptance] if negative else [])

    def record(self, findings: dict[tuple[str, str], Finding], label: str, exc: BaseException,
               response: Any = None) -> None:
        from schemathesis.core.failures import FailureGroup

        failures = list(exc.exceptions) if isinstance(exc, FailureGroup) else [exc]
        request = getattr(response, "request", None)
        line = curl_of_prepared(request) if request is not None else ""
        for failure in failures:
            checks = getattr(type(failure), "checks", ()) or ()
            rule = checks[0] if checks else type(failure).__name__
            title = getattr(failure, "title", None) or str(failure).splitlines()[0] if str(failure) else rule
            message = compact(getattr(failure, "message", "") or "")
            status = f" (answered {response.status_code})" if response is not None else ""
            with self._lock:
                if (label, rule) in findings:
                    continue
                findings[(label, rule)] = Finding(
                    "schemathesis", rule, f"{label}: {title}{status}\n{message}".strip()[:1500], line)

    def explore(self, max_examples: int, negative: bool = False) -> list[Finding]:
        from hypothesis import HealthCheck, given, settings

        schema = self.schema(negative)
        checks = self.checks(negative)
        findings: dict[tuple[str, str], Finding] = {}
        for result in schema.get_all_operations():
            try:
                operation = result.ok()
            except Exception as exc:  # noqa: BLE001 - an operation schemathesis cannot load
                findings[(str(exc)[:80], "schema")] = Finding(
                    "schemathesis", "the contract's operations can be loaded", f"{type(exc).__name__}: {exc}"[:1500])
                continue
            label = operation.label
            self.progress(f"{'negative' if negative else 'positive'} data: {label}")

            @given(case=operation.as_strategy())
            @settings(max_examples=max_examples, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck), report_multiple_bugs=False)
            def run(case: Any) -> None:
                self.exchange(case, label, checks, findings)

            try:
                run()
            except Exception as exc:  # noqa: BLE001 - generation failed for this operation; the others still run
                findings.setdefault((label, "exploration"), Finding(
                    "schemathesis", "every operation can be explored",
                    f"{label}: {type(exc).__name__}: {str(exc)[:1000]}"))
        return list(findings.values())

    def exchange(self, case: Any, label: str, checks: list[Any], findings: dict[tuple[str, str], Finding]) -> Any:
        from schemathesis.core.failures import FailureGroup

        kwargs = {"base_url": self.base, "auth": self.creds, "timeout": self.timeout, "session": self.http}
        try:
            response = case.call(**kwargs)
        except requests.RequestException as exc:
            with self._lock:
                findings.setdefault((label, "connection"), Finding(
                    "schemathesis", "the server answers every request",
                    f"{label}: {type(exc).__name__}: {exc}", case.as_curl_command(base_url=self.base)))
            return None
        try:
            case.validate_response(response, checks=checks, transport_kwargs=kwargs)
        except FailureGroup as exc:
            self.record(findings, label, exc, response)
        except AssertionError as exc:
            self.record(findings, label, exc, response)
        return response

    def stateful(self, runs: int) -> list[Finding]:
        from hypothesis import HealthCheck, settings

        schema = self.schema()
        checks = self.checks(False)
        findings: dict[tuple[str, str], Finding] = {}
        verifier = self
        Machine = schema.as_state_machine()
        if not Machine.bundles:  # no links among the operations kept
            return []

        class Verify(Machine):  # type: ignore[misc, valid-type]
            def step(self, input: Any) -> Any:
                from schemathesis.generation.stateful.state_machine import StepOutput

                response = verifier.exchange(input.case, f"stateful {input.case.operation.label}", checks, findings)
                if response is None:
                    from hypothesis import reject
                    reject()
                return StepOutput(response, input.case)

        Verify.run(settings=settings(max_examples=runs, stateful_step_count=6, deadline=None, database=None,
                                     derandomize=True, suppress_health_check=list(HealthCheck)))
        return list(findings.values())


def compact(message: str, block_lines: int = 4) -> str:
    """Schemathesis' message without blank lines, long indented dumps (schemas, values) cut short."""
    out: list[str] = []
    run = 0
    for line in message.splitlines():
        if not line.strip():
            continue
        if line.startswith("    "):
            run += 1
            if run == block_lines + 1:
                out.append("        ...")
            if run > block_lines:
                continue
        else:
            run = 0
        out.append(line)
    return "\n".join(out)


def curl_of_prepared(request: Any) -> str:
    if request is None:
        return ""
    return curl(request.method or "GET", request.url or "", dict(request.headers), request.body)


def checks(args: Any) -> list[tuple[str, Callable[[], list[Finding]]]]:
    base = args.base_url.rstrip("/")
    creds = credentials(args, base, args.timeout)
    verifier = Emulated(args.target, base, creds, args.timeout, args.operation, args.exclude_operation,
                        args.read_only)
    verifier.progress = lambda text: getattr(args, "progress", None) and args.progress(text)
    if not verifier.operations():
        raise CannotRun("no operation left to verify (see --operation, --exclude-operation, --read-only)")
    out: list[tuple[str, Callable[[], list[Finding]]]] = [("credentials enforced", verifier.check_credentials)]
    if args.max_examples > 0:
        out.append(("schemathesis (positive data)", lambda: verifier.explore(args.max_examples)))
        if args.negative:
            out.append(("schemathesis (negative data)", lambda: verifier.explore(args.max_examples, negative=True)))
        runs = args.stateful_runs if args.stateful_runs is not None else max(1, args.max_examples // 3)
        if not args.read_only and runs > 0:
            out.append(("stateful (links)", lambda: verifier.stateful(runs)))
    return out
