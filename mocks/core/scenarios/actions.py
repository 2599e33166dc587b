"""What a firing rule does to the answer: delays, malformed or dribbled bodies, and the socket
aborts (``reset``, ``empty: close``, ``timeout``) that make the server drop the connection."""
from __future__ import annotations

import errno
import math
import random
import socket
import struct
import time
from typing import Any, Iterator

from flask import Response, request

def action_headers(action: dict[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in (action.get("headers") or {}).items()}


def delay_seconds(spec: dict[str, Any] | None, rng: random.Random) -> float:
    if not spec:
        return 0.0
    if "fixed_ms" in spec:
        ms = float(spec["fixed_ms"])
    elif "uniform_ms" in spec:
        low, high = spec["uniform_ms"]
        ms = rng.uniform(float(low), float(high))
    else:
        ln = spec["lognormal"]
        ms = float(ln["median_ms"]) * math.exp(rng.gauss(0.0, float(ln.get("sigma", 0.5))))
        ms = min(ms, float(ln.get("max_ms", 60_000)))
    return max(0.0, ms) / 1000.0


def malformed(data: bytes, mode: Any, rng: random.Random) -> bytes:
    """A body no JSON parser accepts: the real one cut short, or random bytes (seeded)."""
    text = data.rstrip()
    if mode is True:
        mode = "truncate" if text[:1] in (b"{", b"[") and len(text) > 2 else "bytes"
    if mode == "truncate" and text[:1] in (b"{", b"[") and len(text) > 1:
        return text[: rng.randint(1, len(text) - 1)]
    size = rng.randint(16, 64)
    return b"\xff" + bytes(rng.randrange(256) for _ in range(size))  # 0xff never starts UTF-8 or JSON


def dribble(response: Response, data: bytes, chunks: int, seconds: float) -> Response:
    """The real body in ``chunks`` pieces spread over ``seconds``."""
    chunks = max(1, min(chunks, len(data) or 1))
    size = math.ceil(len(data) / chunks) if data else 0
    pieces = [data[i:i + size] for i in range(0, len(data), size)] if size else [b""]
    pause = seconds / max(1, len(pieces) - 1) if len(pieces) > 1 else seconds

    def stream() -> Iterator[bytes]:
        for i, piece in enumerate(pieces):
            if i:
                time.sleep(pause)
            yield piece

    headers = [(k, v) for k, v in response.headers.items() if k.lower() not in ("content-length",)]
    out = Response(stream(), status=response.status_code, headers=headers, direct_passthrough=True)
    out.headers["Content-Length"] = str(len(data))
    return out


class ConnectionAborted(ConnectionResetError):
    """Raised from a response body to make the server drop the connection without an answer."""


def _socket() -> socket.socket | None:
    env = request.environ
    sock = env.get("gunicorn.socket") or env.get("werkzeug.socket")
    return sock if isinstance(sock, socket.socket) else None


def _abort(sock: socket.socket | None, hard: bool) -> None:
    if sock is None:
        return
    try:
        if hard:  # SO_LINGER 0: close() sends RST instead of FIN
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        else:
            sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


def _aborting(hard: bool, code: int, what: str) -> Response:
    """A response whose body, once the server starts sending it, kills the connection instead."""
    sock = _socket()

    def body() -> Iterator[bytes]:
        _abort(sock, hard=hard)
        raise ConnectionAborted(code, f"connection {what} by an injected fault")
        yield b""  # pragma: no cover

    return Response(body(), status=502, direct_passthrough=True)


def reset_connection() -> Response:
    return _aborting(True, errno.ECONNRESET, "reset")


def close_without_answer() -> Response:
    return _aborting(False, errno.ENOTCONN, "closed")


def hold_then_close(seconds: float) -> Response:
    """Hold the connection open (this thread only) for ``seconds``, then close it unanswered."""
    sock = _socket()

    def body() -> Iterator[bytes]:
        time.sleep(seconds)
        _abort(sock, hard=False)
        raise ConnectionAborted(errno.ENOTCONN, "connection closed by an injected timeout")
        yield b""  # pragma: no cover

    return Response(body(), status=504, direct_passthrough=True)
