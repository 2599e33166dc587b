"""Stock2Shop product images: the image record, checking queued base64 data (signature and size)
and the files the sandbox serves in place of S3."""
from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from mocks.core.state import TenantState
from mocks.stock2shop import errors as X
from mocks.stock2shop.models.formats import s2s_time

IMAGE_BASE = "https://s2s-image.s3.amazonaws.com"


def image_record(state: TenantState, image_id: int, product_id: int, storage: str, source_code: Any,
                 ts: float, base: str | None = None) -> dict[str, Any]:
    base = (base or IMAGE_BASE).rstrip("/")
    return {
        "src_50x50": f"{base}/thumb/50x50/{storage}",
        "src_160x160": f"{base}/thumb/160x160/{storage}",
        "id": image_id,
        "created": s2s_time(ts),
        "source_image_code": source_code,
        "storage_code": storage,
        "src": f"{base}/{storage}",
        "modified": s2s_time(ts),
        "client_id": int(state.tenant),
        "product_id": product_id,
        "active": True,
        "hash": storage.rsplit(".", 1)[0],
    }


MAX_IMAGE_BYTES = 2 * 1024 * 1024
_SIGNATURES = {"png": b"\x89PNG\r\n\x1a\n", "jpg": b"\xff\xd8\xff"}
CONTENT_TYPES = {"png": "image/png", "jpg": "image/jpeg"}


def image_kind(index: int, data: Any) -> str:
    """"jpg" or "png" for base64 image data, else a 400/413. The file signature decides, not a full
    decode: the documents' own example is a truncated PNG (signature and header only) that must pass."""
    where = f"system_images[{index}].image.image"
    if not isinstance(data, str) or not data.strip():
        raise X.BadPayload(f"{where}: base64 image data is required for action I")
    text = "".join(data.split())
    if text.startswith("data:") and "," in text:  # a data: URI prefix is tolerated
        text = text.split(",", 1)[1]
    if (len(text) * 3) // 4 > MAX_IMAGE_BYTES + 3:
        raise X.ImageTooLarge(index, (len(text) * 3) // 4)
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise X.BadPayload(f"{where} is not base64 encoded") from None
    if len(raw) > MAX_IMAGE_BYTES:
        raise X.ImageTooLarge(index, len(raw))
    for kind, signature in _SIGNATURES.items():
        if raw.startswith(signature):
            return kind
    raise X.BadPayload(f"{where} is not a JPEG or PNG image (only jpg and png are accepted)")


def image_bytes(data: str) -> bytes:
    text = "".join(data.split())
    if text.startswith("data:") and "," in text:
        text = text.split(",", 1)[1]
    return base64.b64decode(text + "=" * (-len(text) % 4))


class Images:
    """Image files the sandbox serves (the real service keeps them on S3): ``{hash}.{jpg|png}`` per
    client, with the 50x50 and 160x160 thumbnail URLs answering the original bytes (no imaging
    library is bundled; see the fidelity notes)."""

    def __init__(self, state: TenantState) -> None:
        self.files = state.collection("image_files")

    def save(self, data: str, kind: str) -> str:
        raw = image_bytes(data)
        name = f"{hashlib.md5(raw).hexdigest()}.{kind}"
        if self.files.lookup(name) is None:
            self.files.put(name, {"content_type": CONTENT_TYPES[kind], "size": len(raw),
                                  "data": base64.b64encode(raw).decode()})
        return name

    def load(self, name: str) -> tuple[bytes, str] | None:
        rec = self.files.lookup(name)
        if rec is None:
            return None
        return base64.b64decode(rec["data"]), rec["content_type"]
