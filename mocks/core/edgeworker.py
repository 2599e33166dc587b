"""The gunicorn worker ``commerce-sandbox serve`` runs: gthread, with a header-read timeout in
front of the thread pool, and fresh cached answers given by the main loop itself.

gunicorn's threaded worker hands a connection to a pool thread as soon as its first byte
arrives; the thread then blocks reading the rest of the head. Twenty clients sending their
headers a byte at a time (slowloris) held every thread, and everyone else timed out. Here the
worker's main loop reads each request's head itself, without blocking, from every connection
at once; a connection goes to a pool thread only with a complete head in hand, so a thread
never waits for a slow client's headers. A connection whose head is not complete within
``header_timeout`` seconds (from its first byte, or from the connection) is closed. A head
larger than ``max_head`` is answered by the app in the API's own shape (414 or 431,
``mocks.core.edge``), never with gunicorn's HTML page.

With a complete ``GET`` head in hand (or a ``POST`` head and its whole body, for a search cached
by its body), the main loop first asks the app whether it can answer at
once (``answer_now``: the edge's size checks, then the fast path's fresh cached answer,
``mocks.core.fastpath``; nothing there blocks on a client or on another request). If it can,
the answer is built by gunicorn's own ``Response`` (the same status line, ``Server``, ``Date``
and ``Connection`` headers, the access log and the request hooks) and sent without blocking, and
the connection stays in the main loop for its next request: idle for at most ``keepalive``
seconds, then ``header_timeout`` for the next head. An answer the client does not take at once
is finished by a pool thread; anything the app cannot answer at once goes to the pool as before,
parsed there again from the same bytes. This spares a repeated request the thread hand-off and
the poller's re-registration, which cost as much as the answer itself.

Bodies are not gathered here: the app reads them (a chunked one up to the body limit,
``mocks.core.edge.EdgeMiddleware``).
"""
from __future__ import annotations

import selectors
import time
from collections import deque
from datetime import datetime
from functools import partial
from typing import Any, Callable

from gunicorn import util
from gunicorn.http import wsgi
from gunicorn.http2 import negotiation
from gunicorn.workers.gthread import STOP_KEEPALIVE_LINGER, ThreadWorker

from mocks.core.fastpath import MAX_BODY

HEAD_END = b"\r\n\r\n"

#: requests already in hand (pipelined) answered in one go before the loop serves others
INLINE_IN_A_ROW = 8


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


def _body_length(head: bytes) -> int | None:
    """A POST's body length from its head: the one ``Content-Length`` (digits only, at most the
    fast path's ``MAX_BODY``); None without one, with two, or with ``Transfer-Encoding``."""
    lower = head.lower()
    if b"\r\ntransfer-encoding:" in lower:
        return None
    at = lower.find(b"\r\ncontent-length:")
    if at < 0 or lower.find(b"\r\ncontent-length:", at + 1) >= 0:
        return None
    value = lower[at + 17:lower.find(b"\r\n", at + 2)].strip(b" \t")
    if not value.isdigit() or len(value) > 7 or int(value) > MAX_BODY:
        return None
    return int(value)


class _Written:
    """Stands in for the socket while gunicorn's Response writes an answer; the loop sends it."""

    __slots__ = ("parts",)

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def sendall(self, data: bytes) -> None:
        self.parts.append(data)


_DECLINED, _CLOSED, _KEPT = "declined", "closed", "kept"


class _Kept:
    """The bytes of an answer given in the main loop, kept for the same head from the same
    address: gunicorn's own output around its ``Date`` value, and the fast path's ``again``."""

    __slots__ = ("before_date", "after_date", "again")

    def __init__(self, before_date: bytes, after_date: bytes, again: Callable[[], bool]) -> None:
        self.before_date = before_date
        self.after_date = after_date
        self.again = again

    @classmethod
    def of(cls, data: bytes, again: Callable[[], bool]) -> "_Kept | None":
        head_end = data.find(HEAD_END)
        at = data.find(b"\r\nDate: ", 0, head_end)
        if at < 0:
            return None
        at += len(b"\r\nDate: ")
        end = data.find(b"\r\n", at)
        return cls(data[:at], data[end:], again)


#: heads of up to this size (with a POST's body) are remembered, this many, with answers of this
#: many bytes in all
KEPT_HEAD, KEPT_COUNT, KEPT_BYTES = 8 * 1024, 256, 16 * 1024 * 1024


class EdgeWorker(ThreadWorker):
    header_timeout = 10.0
    max_head = 1024 * 1024

    def init_process(self) -> None:
        self.init_edge()
        super().init_process()

    def init_edge(self) -> None:
        """This worker's own state (``bench/stages.py`` drives a worker in-process with it)."""
        # Connections the main loop reads from, each queue in deadline order. An entry is
        # (conn, generation); one whose generation is no longer the connection's is stale and
        # dropped when met (a connection leaves a queue in O(1) by changing its generation).
        self.heads: deque[tuple[Any, int]] = deque()   # a head in progress: header_timeout
        self.idle: deque[tuple[Any, int]] = deque()    # answered here, awaiting the next: keepalive
        self._answer_now: Callable[[dict[str, Any]], Any] | None | bool = False  # (looked up once)
        self._stop_by: float | None = None
        self._kept: dict[tuple[bytes, str], _Kept] = {}
        self._kept_bytes = 0
        self._date: tuple[int, bytes] = (0, b"")

    # -- the main loop reads heads -------------------------------------------------------
    def enqueue_req(self, conn: Any) -> None:
        if self.cfg.is_ssl or getattr(conn, "edge_ready", False):
            conn.edge_ready = False
            super().enqueue_req(conn)
            return
        held = conn.parser.unreader.take_buffered() if conn.parser is not None else b""
        conn.edge_buf = bytearray(held)
        if HEAD_END in conn.edge_buf:  # a pipelined request already in hand
            self._head_done(conn, registered=False)
            return
        conn.sock.setblocking(False)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_head_readable, conn))
        self._watch(conn, self.heads, self.header_timeout)

    def on_head_readable(self, conn: Any, _sock: Any) -> None:
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client went away
            self._drop(conn)
            return
        start = max(0, len(conn.edge_buf) - 3)
        conn.edge_buf += data
        if conn.edge_buf.find(HEAD_END, start) >= 0 or len(conn.edge_buf) > self.max_head:
            self._head_done(conn, registered=True)
        elif conn.edge_idle:  # the first bytes of the next request: its head has header_timeout
            self._watch(conn, self.heads, self.header_timeout)

    def _head_done(self, conn: Any, registered: bool) -> None:
        """A complete head (or one over ``max_head``) is in ``conn.edge_buf``: answer it here if
        the app can at once, else hand the connection to a pool thread."""
        for _ in range(INLINE_IN_A_ROW):
            outcome = self._answer_here(conn)
            if outcome is _CLOSED:
                return
            if outcome is _DECLINED:
                break
            if HEAD_END not in conn.edge_buf:  # kept alive: wait for the next request here
                if not registered:
                    conn.sock.setblocking(False)
                    self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_head_readable, conn))
                if conn.edge_buf:
                    self._watch(conn, self.heads, self.header_timeout)
                else:
                    self._watch(conn, self.idle, self.cfg.keepalive)
                return
        if registered:
            self._forget(conn)
        conn.edge_ready = True
        conn.data_ready = True
        self.enqueue_req(conn)

    # -- deadlines ---------------------------------------------------------------------------
    def _watch(self, conn: Any, queue: deque[tuple[Any, int]], seconds: float) -> None:
        conn.edge_gen = gen = getattr(conn, "edge_gen", 0) + 1
        conn.edge_deadline = time.monotonic() + seconds
        conn.edge_idle = queue is self.idle
        queue.append((conn, gen))

    def _forget(self, conn: Any) -> None:
        conn.edge_gen = getattr(conn, "edge_gen", 0) + 1
        try:
            self.poller.unregister(conn.sock)
        except (KeyError, ValueError, OSError):
            pass

    def _drop(self, conn: Any, graceful: bool = False) -> None:
        self._forget(conn)
        self.nr_conns -= 1
        conn.close(graceful=graceful)

    def murder_pending(self) -> None:
        """Also close the connections whose head did not arrive in time, and those idle here
        past ``keepalive`` (a stopping worker keeps them ``STOP_KEEPALIVE_LINGER`` at most)."""
        super().murder_pending()
        now = time.monotonic()
        if not self.alive and self._stop_by is None:
            self._stop_by = now + STOP_KEEPALIVE_LINGER
        for queue, cap in ((self.heads, None), (self.idle, self._stop_by)):
            while queue:
                conn, gen = queue[0]
                if conn.edge_gen != gen:
                    queue.popleft()
                    continue
                deadline = conn.edge_deadline if cap is None else min(conn.edge_deadline, cap)
                if deadline > now:
                    break
                queue.popleft()
                self._drop(conn)

    # -- answering in the main loop ------------------------------------------------------------
    def answer_now(self) -> Callable[[dict[str, Any]], Any] | None:
        """The app's ``answer_now(environ) -> (status, headers, body) | None`` (on its
        ``wsgi_app``: ``mocks.core.edge.EdgeMiddleware``), if it has one."""
        if self._answer_now is False:
            self._answer_now = getattr(getattr(self.wsgi, "wsgi_app", None), "answer_now", None)
        return self._answer_now  # type: ignore[return-value]

    def _answer_here(self, conn: Any) -> str:
        """Answer the ``GET`` whose head is in ``conn.edge_buf``, or the ``POST`` whose head and
        whole body are, if the app can at once; the bytes after it stay in ``conn.edge_buf``.
        ``_DECLINED`` leaves everything as it was."""
        answer_now = self.answer_now()
        buf = conn.edge_buf
        if answer_now is None or not self.alive or len(buf) > self.max_head or self.nr + 1 >= self.max_requests:
            return _DECLINED
        end = buf.find(HEAD_END) + len(HEAD_END)
        if buf.startswith(b"GET "):
            length = 0
        elif buf.startswith(b"POST "):
            length = _body_length(bytes(buf[:end]))
            if length is None or len(buf) < end + length:
                return _DECLINED  # (no length, or the body is not all here yet: the pool reads it)
            end += length
        else:
            return _DECLINED
        seen = (bytes(buf[:end]), str(conn.client[0] if isinstance(conn.client, tuple) else conn.client))
        kept = self._kept.get(seen)
        if kept is not None:  # the very same head from the same address: the same answer, if it holds
            if self._plain and len(self.keepalived_conns) < self.max_keepalived and kept.again():
                self.nr += 1
                return self._send(conn, kept.before_date + self._http_date() + kept.after_date,
                                  bytes(buf[end:]), True)
            self._forget_kept(seen)
        if conn.parser is None:
            if negotiation.prior_knowledge_allowed(self.cfg, conn.client):
                return _DECLINED  # (the pool thread reads the HTTP/2 preface)
            conn.init()
        if negotiation.upgrade_allowed(self.cfg, conn.client):
            return _DECLINED
        parser = conn.parser
        before = (parser.mesg, parser.req_count)
        parser.unreader.unread(bytes(buf))
        written = _Written()
        try:
            req = next(parser)  # the head (and a POST's body) is all in hand: no read from the socket
            if req.body is None or req._expected_100_continue or any(
                    name == "TRANSFER-ENCODING" or name == "CONTENT-LENGTH" and not length for name, _ in req.headers):
                answer = None
            else:
                started = datetime.now()
                resp, environ = wsgi.create(req, written, conn.client, conn.server, self.cfg)
                environ["wsgi.multithread"] = True
                # (gunicorn read the length as this loop did, or the request is not answered here)
                same = environ.get("CONTENT_LENGTH", "0" if not length else None) == str(length)
                answer = answer_now(environ) if same else None
        except Exception:  # noqa: BLE001 - a head gunicorn refuses: the pool thread answers it
            answer = None
        if answer is None:
            parser.unreader.take_buffered()
            parser.mesg, parser.req_count = before
            return _DECLINED
        self.nr += 1
        self.cfg.pre_request(self, req)
        if not self.cfg.keepalive or len(self.keepalived_conns) >= self.max_keepalived:
            resp.force_close()
        resp.start_response(answer.status, answer.headers)
        resp.write(answer.body)
        resp.close()
        self.log.access(resp, req, environ, datetime.now() - started)
        try:
            self.cfg.post_request(self, req, environ, resp)
        except Exception:  # noqa: BLE001 - as gunicorn: logged, the answer stands
            self.log.exception("Exception in post_request hook")
        keep = not resp.should_close()
        rest = parser.unreader.take_buffered()
        data = b"".join(written.parts)
        if keep and self._plain and not resp.must_close and len(seen[0]) - length <= KEPT_HEAD:
            self._keep(seen, data, answer.again)
        return self._send(conn, data, rest, keep)

    def _send(self, conn: Any, data: bytes, rest: bytes, keep: bool) -> str:
        """Send an answer made here without blocking; ``rest``: the bytes that followed its head."""
        conn.sock.setblocking(False)
        try:
            sent = conn.sock.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:  # the client went away
            self._drop(conn)
            return _CLOSED
        if sent < len(data):  # the client reads slowly: a pool thread sends the rest
            self._forget(conn)
            if conn.parser is None:
                conn.init()
            conn.parser.unreader.unread(rest)
            done = self.tpool.submit(self._send_rest, conn, data[sent:], keep)
            done.add_done_callback(lambda fut: self.method_queue.defer(self.finish_request, conn, fut))
            return _CLOSED
        if not keep:
            self._drop(conn, graceful=True)
            return _CLOSED
        conn.edge_buf = bytearray(rest)
        return _KEPT

    @property
    def _plain(self) -> bool:
        """No access log and gunicorn's own request hooks: a kept answer may be sent as it is."""
        plain = getattr(self, "_plain_cfg", None)
        if plain is None:
            from gunicorn.config import PostRequest, PreRequest

            plain = self._plain_cfg = (not self.log.access_log_enabled and self.cfg.pre_request is PreRequest.default
                                       and self.cfg.post_request is PostRequest.default)
        return plain

    def _http_date(self) -> bytes:
        """The ``Date`` value gunicorn would send now (made once a second)."""
        now = int(time.time())
        at, text = self._date
        if at != now:
            text = util.http_date(now).encode("latin-1")
            self._date = (now, text)
        return text

    def _keep(self, seen: tuple[bytes, str], data: bytes, again: Callable[[], bool]) -> None:
        kept = _Kept.of(data, again)
        if kept is None:
            return
        if len(self._kept) >= KEPT_COUNT or self._kept_bytes + len(data) > KEPT_BYTES:
            self._kept.clear()
            self._kept_bytes = 0
        self._forget_kept(seen)
        self._kept[seen] = kept
        self._kept_bytes += len(kept.before_date) + len(kept.after_date)

    def _forget_kept(self, seen: tuple[bytes, str]) -> None:
        kept = self._kept.pop(seen, None)
        if kept is not None:
            self._kept_bytes -= len(kept.before_date) + len(kept.after_date)

    @staticmethod
    def _send_rest(conn: Any, data: bytes, keep: bool) -> bool:
        """(A pool thread) the rest of an answer the main loop began; then as after a request."""
        try:
            conn.sock.setblocking(True)
            conn.sock.sendall(data)
        except OSError:
            return False
        return keep

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
