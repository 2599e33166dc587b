"""The gunicorn worker ``commerce-sandbox serve`` runs: gthread, with a header-read timeout in
front of the thread pool.

gunicorn's threaded worker hands a connection to a pool thread as soon as its first byte
arrives; the thread then blocks reading the rest of the head. Twenty clients sending their
headers a byte at a time (slowloris) held every thread, and everyone else timed out. Here the
worker's main loop reads each request's head itself, without blocking, from every connection
at once; a connection goes to a pool thread only with a complete head in hand, so a thread
never waits for a slow client's headers. A connection whose head is not complete within
``header_timeout`` seconds (from the connection, or from the end of the previous request on a
kept-alive one) is closed. A head larger than ``max_head`` is answered by the app in the API's
own shape (414 or 431, ``mocks.core.edge``), never with gunicorn's HTML page.

Bodies are not gathered here: the app reads them (a chunked one up to the body limit,
``mocks.core.edge.EdgeMiddleware``).
"""
from __future__ import annotations

import selectors
import time
from collections import deque
from functools import partial
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

HEAD_END = b"\r\n\r\n"


def gunicorn_settings(header_timeout: float) -> dict[str, Any]:
    """The gunicorn settings of the edge (merged into ``serve``'s)."""
    EdgeWorker.header_timeout = header_timeout
    return {
        "worker_class": EdgeWorker,
        # gunicorn's own limits sit above the edge's (mocks.core.edge.Limits), which answer
        # in the API's shape; a head beyond these is refused by EdgeWorker, also in that shape
        "limit_request_line": 0,                  # (gunicorn caps it at 1 MiB)
        "limit_request_field_size": 1024 * 1024,
        "limit_request_fields": 1000,
        "worker_connections": 2000,               # idle and slow connections cost a socket, not a thread
    }


class EdgeWorker(ThreadWorker):
    header_timeout = 10.0
    max_head = 1024 * 1024

    def init_process(self) -> None:
        self.heads: deque[Any] = deque()   # connections whose head is being read, oldest first
        super().init_process()

    # -- the main loop reads heads -------------------------------------------------------
    def enqueue_req(self, conn: Any) -> None:
        if self.cfg.is_ssl or getattr(conn, "edge_ready", False):
            conn.edge_ready = False
            super().enqueue_req(conn)
            return
        held = conn.parser.unreader.take_buffered() if conn.parser is not None else b""
        conn.edge_buf = bytearray(held)
        if HEAD_END in conn.edge_buf:  # a pipelined request already in hand
            self._ready(conn)
            return
        conn.edge_deadline = time.monotonic() + self.header_timeout
        conn.sock.setblocking(False)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_head_readable, conn))
        self.heads.append(conn)

    def on_head_readable(self, conn: Any, _sock: Any) -> None:
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client went away
            self._forget(conn)
            self.nr_conns -= 1
            conn.close()
            return
        start = max(0, len(conn.edge_buf) - 3)
        conn.edge_buf += data
        if conn.edge_buf.find(HEAD_END, start) >= 0 or len(conn.edge_buf) > self.max_head:
            self._forget(conn)
            self._ready(conn)

    def _forget(self, conn: Any) -> None:
        try:
            self.poller.unregister(conn.sock)
        except (KeyError, ValueError, OSError):
            pass
        try:
            self.heads.remove(conn)
        except ValueError:
            pass

    def _ready(self, conn: Any) -> None:
        conn.edge_ready = True
        conn.data_ready = True
        self.enqueue_req(conn)

    def murder_pending(self) -> None:
        """Also close the connections whose head did not arrive in time."""
        super().murder_pending()
        now = time.monotonic()
        while self.heads and self.heads[0].edge_deadline <= now:
            conn = self.heads.popleft()
            try:
                self.poller.unregister(conn.sock)
            except (KeyError, ValueError, OSError):
                pass
            self.nr_conns -= 1
            conn.close()

    # -- a pool thread parses a complete head ---------------------------------------------
    def handle(self, conn: Any) -> Any:
        buf = getattr(conn, "edge_buf", None)
        conn.edge_buf = None
        if buf is not None:
            conn.sock.setblocking(True)
            conn.init()
            if len(buf) > self.max_head and buf.find(HEAD_END, 0, self.max_head) < 0:
                self.refuse(conn, bytes(buf[: 64 * 1024]))
                return False
            conn.parser.unreader.unread(bytes(buf))
        return super().handle(conn)

    def refuse(self, conn: Any, head: bytes) -> None:
        """A head over ``max_head``: the app answers in the API's shape (414 or 431), then close."""
        from werkzeug.test import EnvironBuilder

        from mocks.core import edge

        line, crlf, _ = head.partition(b"\r\n")
        parts = line.split(b" ")
        method = parts[0].decode("latin-1")[:16] if parts and parts[0].isalpha() else "GET"
        target = parts[1].decode("latin-1") if len(parts) > 1 else "/"
        path = target.split("?", 1)[0][:2048] or "/"
        env = EnvironBuilder(path=path, method=method).get_environ()
        env[edge.REFUSED] = edge.URITooLong() if not crlf else edge.HeadersTooLarge()
        out: list[bytes] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            out.append(f"HTTP/1.1 {status}\r\n".encode("latin-1"))
            out.extend(f"{k}: {v}\r\n".encode("latin-1") for k, v in headers if k.lower() != "connection")
            out.append(b"Connection: close\r\n\r\n")
            return out.append

        try:
            body = b"".join(self.wsgi(env, start_response))
            conn.sock.sendall(b"".join(out) + body)
        except Exception:  # pragma: no cover - the client is gone or the app failed: just close
            self.log.debug("could not answer an oversized head", exc_info=True)
