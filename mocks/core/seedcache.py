"""Seeded states kept for the next fresh start (``serve`` on a SQLite state file that does not
exist yet).

Seeding is deterministic: the same seed, APIs, options and code give the same state, byte for
byte of data. So once ``serve`` has seeded a fresh state file, it keeps a copy of it (taken before
anything else writes: scenarios, requests) in the user's cache (``mocks.resources.user_cache``,
``seeds``) under a digest of all of that; the next start on a new state file with the same digest
begins from a copy instead of seeding again. Anything that differs (another ``--seed``, an
``--option``, an edited source file of the package, another Faker or Python) is another digest,
so a kept state is never used for anything it was not made from. States over ``MAX_BYTES`` (a
catalogue of 100,000 products) are not kept; ``COMMERCE_SANDBOX_CACHE=""`` turns every cache off.
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any

import mocks

_FORMAT = b"commerce-sandbox seeded state 1"
MAX_BYTES = 64 * 1024 * 1024


def _sources() -> bytes:
    """A digest of every source and data file of the package (5 ms: read, never imported)."""
    digest = hashlib.blake2b(digest_size=16)
    root = Path(mocks.__file__).parent
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".json", ".yaml", ".yml") and "__pycache__" not in path.parts:
            data = path.read_bytes()
            digest.update(str(path.relative_to(root)).encode() + b"\0" + len(data).to_bytes(8, "big") + data)
    return digest.digest()


def _versions() -> dict[str, str]:
    """The versions of what seeding draws with besides the package itself (Faker's word lists)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": ".".join(map(str, sys.version_info[:2]))}
    for name in ("faker",):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "?"
    return out


def key(config: Any, apis: list[str]) -> str:
    """What a seeded state depends on: the seed, the APIs, their options, the code (and Faker's)."""
    what = {"seed": config.seed, "apis": sorted(apis), "options": {a: config.api_options(a) for a in sorted(apis)},
            "versions": _versions()}
    digest = hashlib.blake2b(_FORMAT, digest_size=16)
    digest.update(json.dumps(what, sort_keys=True, default=repr).encode())
    digest.update(_sources())
    return digest.hexdigest()


def _kept(digest: str) -> Path | None:
    from mocks.resources import user_cache

    folder = user_cache("seeds")
    return None if folder is None else folder / f"{digest}.db"


def fresh(path: str) -> bool:
    """No state at ``path`` yet: no file, or a database without the store's tables (``serve``'s
    check that the file can be written makes an empty one), and no write-ahead log."""
    if os.path.exists(f"{path}-wal"):
        return False
    if not os.path.exists(path):
        return True
    try:
        with sqlite3.connect(f"{Path(path).absolute().as_uri()}?mode=ro", uri=True) as db:
            tables = db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
        db.close()
    except sqlite3.Error:
        return False
    return tables == 0


def restore(path: str, digest: str) -> bool:
    """Start the new state file ``path`` from the kept copy for ``digest``, if there is one."""
    kept = _kept(digest)
    if kept is None or not kept.is_file() or not fresh(path):
        return False
    tmp = f"{path}.{os.getpid()}.seeded"
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with sqlite3.connect(kept) as source, sqlite3.connect(tmp) as target:
            source.backup(target)
        target.close()
        source.close()
        os.replace(tmp, path)  # (a state file made meanwhile by another start is replaced whole)
    except (OSError, sqlite3.Error):
        try:
            os.unlink(tmp)
        except OSError:
            pass
        return False
    return True


def save(path: str, digest: str) -> None:
    """Keep a copy of the just-seeded state at ``path`` for the next fresh start."""
    kept = _kept(digest)
    if kept is None or kept.exists():
        return
    tmp = kept.with_name(f"{kept.name}.{os.getpid()}.tmp")
    try:
        with sqlite3.connect(path) as source:
            pages, size = (source.execute(f"PRAGMA {p}").fetchone()[0] for p in ("page_count", "page_size"))
            if pages * size > MAX_BYTES:
                return
            with sqlite3.connect(tmp) as target:
                source.backup(target)
            target.close()
        source.close()
        os.replace(tmp, kept)
    except (OSError, sqlite3.Error):
        try:
            os.unlink(tmp)
        except OSError:
            pass
