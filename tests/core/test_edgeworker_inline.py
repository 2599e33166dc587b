"""Fresh cached answers given by the worker's main loop (mocks.core.edgeworker), against a real
`commerce-sandbox serve` with ONE pool thread: what the main loop answers cannot wait for it."""
from __future__ import annotations

import json
import socket
import threading
import time

import pytest
import requests

from tests.core.test_server import KEY, Server

pytestmark = pytest.mark.slow

PAGE = "/click2sync/api/product?offset=0"
HOLD = """name: hold-orders
description: Holds Click2Sync's order list for two seconds (a test's slow request).
rules:
  - name: hold
    match: {api: click2sync, method: GET, path: /click2sync/api/order}
    action:
      delay: {fixed_ms: 2000}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inline")
    (folder / "scenarios").mkdir()
    (folder / "scenarios" / "hold-orders.yaml").write_text(HOLD)
    s = Server(f"sqlite:///{folder}/state.db", workers=1,
               extra=["--threads", "1", "--header-timeout", "2", "--scenarios-dir", str(folder / "scenarios")])
    yield s
    s.stop()


def request_bytes(path: str = PAGE, extra: bytes = b"") -> bytes:
    return (f"GET {path} HTTP/1.1\r\nHost: x\r\nC2SKey: {KEY['C2SKey']}\r\n".encode() + extra + b"\r\n")


def read_answers(sock: socket.socket, count: int, timeout: float = 10) -> list[tuple[bytes, bytes]]:
    """``count`` answers (head, body) read off a kept-alive connection."""
    sock.settimeout(timeout)
    buf, out = b"", []
    while len(out) < count:
        while b"\r\n\r\n" not in buf:
            part = sock.recv(65536)
            assert part, f"closed after {len(out)} answers"
            buf += part
        head, _, buf = buf.partition(b"\r\n\r\n")
        length = int(next(line.split(b":", 1)[1] for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:")))
        while len(buf) < length:
            part = sock.recv(65536)
            assert part, "closed in a body"
            buf += part
        out.append((head, buf[:length]))
        buf = buf[length:]
    return out


def without_date(head: bytes) -> list[bytes]:
    return [line for line in head.split(b"\r\n") if not line.lower().startswith(b"date:")]


def warm(server) -> bytes:
    """The page twice through the chain (a miss, then a cached hit the fast path learns from)."""
    for _ in range(2):
        r = requests.get(server.base + PAGE, headers=KEY, timeout=10)
        assert r.status_code == 200
    return r.content


def test_a_cached_page_is_answered_while_the_only_thread_is_busy(server):
    body = warm(server)
    held: dict[str, float] = {}

    def slow() -> None:
        started = time.monotonic()
        r = requests.get(server.base + "/click2sync/api/order?offset=0", timeout=20,
                         headers={**KEY, "X-Sandbox-Scenario": "hold-orders"})
        held["status"], held["took"] = r.status_code, time.monotonic() - started

    thread = threading.Thread(target=slow)
    thread.start()
    time.sleep(0.3)  # the pool's one thread is now sleeping in the held request
    started = time.monotonic()
    r = requests.get(server.base + PAGE, headers=KEY, timeout=10)
    took = time.monotonic() - started
    assert r.status_code == 200 and r.content == body
    assert thread.is_alive(), "the held request ended before the page was asked for"
    assert took < 1.0, took
    thread.join()
    assert held["status"] == 200 and held["took"] >= 1.9


def test_kept_alive_and_pipelined_answers_are_gunicorns_bytes(server):
    body = warm(server)
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(request_bytes())
        first = read_answers(sock, 1)
        sock.sendall(request_bytes() * 5)  # pipelined: all in one packet
        rest = read_answers(sock, 5)
    heads = {tuple(without_date(head)) for head, _ in first + rest}
    assert len(heads) == 1, heads
    head = list(heads.pop())
    assert head[0] == b"HTTP/1.1 200 OK"
    assert b"Server: gunicorn" in head and b"Connection: keep-alive" in head
    assert all(answer == body for _, answer in first + rest)


def test_http_1_0_without_keep_alive_is_answered_then_closed(server):
    warm(server)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(f"GET {PAGE} HTTP/1.0\r\nC2SKey: {KEY['C2SKey']}\r\n\r\n".encode())
        data = b""
        while True:
            part = sock.recv(65536)
            if not part:
                break
            data += part
    assert data.startswith(b"HTTP/1.0 200 OK\r\n") and b"\r\nConnection: close\r\n" in data


def test_every_answer_is_journaled(server):
    warm(server)
    before = requests.get(server.base + "/__sandbox/requests", params={"api": "click2sync"}, timeout=10).json()
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(request_bytes() * 4)
        read_answers(sock, 4)
    after = requests.get(server.base + "/__sandbox/requests", params={"api": "click2sync"}, timeout=10).json()
    seen = {e["seq"] for e in before["requests"]}
    new = [e for e in after["requests"] if e["seq"] not in seen]
    assert len(new) == 4
    assert all(e["path"] == "/click2sync/api/product" and e["status"] == 200 for e in new)
    assert all(e["request"]["headers"]["C2Skey"] == "***" for e in new)  # (redacted as by the chain)
    assert len({e["time"] for e in new}) == 4


def test_a_slow_reader_does_not_hold_the_others(server):
    warm(server)
    hog = socket.create_connection(("127.0.0.1", server.port))
    hog.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        hog.sendall(request_bytes() * 300)  # ~4.6 MB of answers it never reads
        time.sleep(0.5)
        started = time.monotonic()
        for _ in range(5):
            r = requests.get(server.base + PAGE, headers=KEY, timeout=5)
            assert r.status_code == 200
        assert time.monotonic() - started < 2.0
    finally:
        hog.close()


def test_a_partial_head_after_an_answer_gets_the_header_timeout(server):
    warm(server)
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(request_bytes())
        read_answers(sock, 1)
        sock.sendall(b"GET /click2sync/api/product HTTP/1.1\r\nHo")  # and never the rest
        started = time.monotonic()
        sock.settimeout(10)
        assert sock.recv(10) == b""
        assert 1.0 < time.monotonic() - started < 4.5  # the header timeout (2 s), not keep-alive's 5 s


def test_an_idle_connection_after_an_answer_is_closed_after_keep_alive(server):
    warm(server)
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(request_bytes())
        read_answers(sock, 1)
        started = time.monotonic()
        sock.settimeout(12)
        assert sock.recv(10) == b""
        assert 4.0 < time.monotonic() - started < 8.0  # keep-alive: 5 s


def test_a_request_the_cache_does_not_hold_still_goes_to_the_chain(server):
    warm(server)
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        # cached page, an uncached one, a wrong key, the page again: in order, on one connection
        sock.sendall(request_bytes() + request_bytes("/click2sync/api/product?offset=40")
                     + b"GET /click2sync/api/product?offset=0 HTTP/1.1\r\nHost: x\r\nC2SKey: wrong\r\n\r\n"
                     + request_bytes())
        answers = read_answers(sock, 4)
    assert [head.split(b"\r\n", 1)[0] for head, _ in answers] == [
        b"HTTP/1.1 200 OK", b"HTTP/1.1 200 OK", b"HTTP/1.1 401 UNAUTHORIZED", b"HTTP/1.1 200 OK"]
    assert answers[0][1] == answers[3][1] != answers[1][1]


SEARCH = {"query": {"bool": {"filter": [{"term": {"active": True}}]}},
          "sort": [{"modified": {"order": "desc"}}], "size": 3}


def s2s_token(server) -> str:
    user = requests.get(server.base + "/__sandbox/credentials", timeout=10).json()["stock2shop"]["users"][0]
    r = requests.post(server.base + "/stock2shop/v1/users/authenticate?format=json", timeout=10,
                      json={"system_user_auth": {"username": user["username"], "password": user["password"]}})
    return r.json()["system_user"]["token"]


def search_bytes(token: str, body: bytes) -> bytes:
    return (f"POST /stock2shop/v1/products/elastic_search?token={token} HTTP/1.1\r\nHost: x\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body


def test_a_cached_search_is_answered_by_its_body_while_the_only_thread_is_busy(server):
    token = s2s_token(server)
    body = json.dumps(SEARCH).encode()
    with socket.create_connection(("127.0.0.1", server.port)) as sock:  # a miss, then the hit it learns from
        sock.sendall(search_bytes(token, body))
        read_answers(sock, 1)
        sock.sendall(search_bytes(token, body))
        first = read_answers(sock, 1)[0]
    assert first[0].startswith(b"HTTP/1.1 200 OK")
    thread = threading.Thread(target=lambda: requests.get(
        server.base + "/click2sync/api/order?offset=0", timeout=20, headers={**KEY, "X-Sandbox-Scenario": "hold-orders"}))
    thread.start()
    time.sleep(0.3)
    try:
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(search_bytes(token, body) * 3)  # three, pipelined, bodies and all
            answers = read_answers(sock, 3)
        assert time.monotonic() - started < 1.0 and thread.is_alive()
        assert all(head.startswith(b"HTTP/1.1 200 OK") and answer == first[1] for head, answer in answers)
    finally:
        thread.join()


def test_a_search_whose_body_comes_later_or_differs_goes_to_the_chain(server):
    token = s2s_token(server)
    body = json.dumps(SEARCH).encode()
    other = json.dumps({**SEARCH, "size": 2}).encode()
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        request = search_bytes(token, body)
        for _ in range(2):
            sock.sendall(request)
            read_answers(sock, 1)
        head, _, payload = request.partition(b"\r\n\r\n")
        sock.sendall(head + b"\r\n\r\n")  # the head alone; the body a moment later
        time.sleep(0.3)
        sock.sendall(payload)
        late = read_answers(sock, 1)[0]
        sock.sendall(search_bytes(token, other))
        differs = read_answers(sock, 1)[0]
    assert late[0].startswith(b"HTTP/1.1 200 OK") and json.loads(late[1])["hits"]["hits"]
    assert len(json.loads(late[1])["hits"]["hits"]) == 3 and len(json.loads(differs[1])["hits"]["hits"]) == 2
