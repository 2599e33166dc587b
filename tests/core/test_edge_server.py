"""The HTTP edge against a real `commerce-sandbox serve` (gunicorn): slow clients, oversized
request lines and headers, chunked bodies. Small counts here; `make soak`'s slowloris run
(bench/slowloris.py) gives the 200-connection figure."""
from __future__ import annotations

import json
import socket
import threading
import time

import pytest
import requests

from tests.core.test_server import KEY, Server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("edge")
    s = Server(f"sqlite:///{folder}/state.db", workers=1,
               extra=["--threads", "2", "--header-timeout", "2"])
    yield s
    s.stop()


def raw(server, data: bytes, timeout: float = 10) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as sock:
        sock.sendall(data)
        out = b""
        while True:
            try:
                part = sock.recv(65536)
            except socket.timeout:
                break
            if not part:
                break
            out += part
    return out


def split(answer: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def test_slow_header_senders_do_not_starve_the_others_and_are_closed(server):
    holders = []
    for _ in range(12):  # six times the pool's threads
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        sock.sendall(b"GET /click2sync/api/product HTTP/1.1\r\nHost: x\r\n")  # never finishes its head
        holders.append(sock)
    try:
        times = []
        for _ in range(10):
            started = time.monotonic()
            r = requests.get(server.base + "/click2sync/api/product", headers=KEY, timeout=5)
            times.append(time.monotonic() - started)
            assert r.status_code == 200
        assert max(times) < 1.5, times
        # the held sockets are closed once the header timeout (2 s) is over
        time.sleep(3.5)
        for sock in holders:
            sock.settimeout(2)
            assert sock.recv(10) == b""
    finally:
        for sock in holders:
            sock.close()


def test_idle_connections_are_closed_after_the_header_timeout(server):
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    started = time.monotonic()
    assert sock.recv(10) == b""
    assert 1.0 < time.monotonic() - started < 5
    sock.close()


def test_a_long_request_line_the_contract_allows_is_served(server):
    creds = requests.get(server.base + "/__sandbox/credentials", timeout=5).json()["xtnd"]
    # 500 item numbers of 40 characters, repeated (26 KB) and comma-separated: both well over 4 KiB
    for query in ("&".join(f"itemNumbers=ITEM-{i:035d}" for i in range(500)),
                  "itemNumbers=" + "%2C".join(f"ITEM-{i:035d}" for i in range(500))):
        r = requests.get(server.base + "/xtnd/api/v1/ProductAvailability?" + query,
                         headers={"Authorization": f"Bearer {creds['api_key']}"}, timeout=10)
        assert r.status_code == 200, r.text[:300]
        assert r.json()["items"] == []


@pytest.mark.parametrize("size", [100 * 1024, 2 * 1024 * 1024])
def test_a_request_line_over_the_limit_is_the_apis_json_414(server, size):
    status, headers, body = split(raw(server, b"GET /click2sync/api/product?q=" + b"a" * size
                                      + b" HTTP/1.1\r\nHost: x\r\nC2SKey: c2s-demo-key\r\n\r\n"))
    assert status == 414 and headers["content-type"].startswith("application/json")
    answer = json.loads(body)
    assert answer["success"] is False and answer["code"] == 414


@pytest.mark.parametrize("size", [20 * 1024, 2 * 1024 * 1024])
def test_a_header_over_the_limit_is_the_apis_json_431(server, size):
    status, headers, body = split(raw(server, b"GET /xtnd/api/v1/CustomerOrders HTTP/1.1\r\nHost: x\r\nX-Big: "
                                      + b"b" * size + b"\r\n\r\n"))
    assert status == 431 and headers["content-type"].startswith("application/json")
    assert json.loads(body)["status"] == 431


def test_api2cart_refuses_in_its_envelope(server):
    status, headers, body = split(raw(server, b"GET /api2cart/v1.1/product.list.json?x=" + b"a" * 100_000
                                      + b" HTTP/1.1\r\nHost: x\r\n\r\n"))
    answer = json.loads(body)
    assert headers["content-type"].startswith("application/json")
    assert answer["return_code"] != 0 and "result" in answer


def chunked(body: bytes, piece: int = 64 * 1024) -> bytes:
    out = b""
    for i in range(0, len(body), piece):
        part = body[i:i + piece]
        out += f"{len(part):x}\r\n".encode() + part + b"\r\n"
    return out + b"0\r\n\r\n"


def _complete(answer: bytes) -> bool:
    """True once a whole answer (head and Content-Length bytes of body) has arrived."""
    head, sep, body = answer.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip())
    return False


def test_a_chunked_body_over_the_limit_is_413_and_stores_nothing(server):
    before = requests.get(server.base + "/__sandbox/data/click2sync", timeout=5).content
    body = json.dumps({"sku": "CHUNK-1", "title": "x" * (6 * 1024 * 1024)}).encode()
    head = (b"POST /click2sync/api/product HTTP/1.1\r\nHost: x\r\nC2SKey: c2s-demo-key\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        def send():
            try:
                sock.sendall(head + chunked(body))
            except OSError:
                pass  # the server answered and closed: the rest is never read
        t = threading.Thread(target=send, daemon=True)
        t.start()
        answer = b""
        while not _complete(answer):
            part = sock.recv(65536)
            if not part:
                break
            answer += part
    status, headers, payload = split(answer)
    assert status == 413 and headers["content-type"].startswith("application/json")
    assert json.loads(payload[: int(headers["content-length"])])["code"] == 413
    assert requests.get(server.base + "/__sandbox/data/click2sync", timeout=5).content == before


def test_a_chunked_body_under_the_limit_is_read_whole(server):
    body = json.dumps({"sku": "CHUNK-2", "title": "chunked"}).encode()
    answer = raw(server, b"POST /click2sync/api/product HTTP/1.1\r\nHost: x\r\nC2SKey: c2s-demo-key\r\n"
                 b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                 + chunked(body, 7))
    status, _, payload = split(answer)
    assert status == 200, payload[:300]
    assert b"CHUNK-2" in payload
    assert b"CHUNK-2" in requests.get(server.base + "/__sandbox/data/click2sync", timeout=5).content
