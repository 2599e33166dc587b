"""The image queue: jpg/png only, at most 2 MB decoded, FIFO after products, failures logged, and
src / src_50x50 / src_160x160 URLs the sandbox really serves."""
from __future__ import annotations

import base64
import struct
import zlib

from tests.stock2shop.conftest import P, advance, assert_error, login, search

DOC_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAUAAAAFCAYAAACNbyblAAAAHElEQVQI12P4"  # the documents' (truncated) example


def png(w: int = 3, h: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * w for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"


def product(code: str, n: int = 1) -> dict:
    """One variant per entry (the guide: "Each product must contain only one variant")."""
    return {"source": {"source_id": 57, "source_product_code": code},
            "product": {"title": code, "variants": [{"source_variant_code": f"{code}-{n}", "sku": f"{code}-{n}"}]}}


def image(code: str, data: bytes | str, image_id: str = "a", variant: str | None = None, **extra) -> dict:
    src = {"source_id": 57, "source_product_code": code}
    if variant:
        src["source_variant_code"] = variant
    b64 = data if isinstance(data, str) else base64.b64encode(data).decode()
    return {"source": src, "image": {"image_id": image_id, "action": "I", "image": b64, **extra}}


def queue(c, tok, what, entries):
    return c.post(f"{P}/v1/{what}/queue?token={tok}", json={f"system_{what}": entries})


def find(c, tok, code):
    return search(c, tok, {"query": {"term": {"source_product_code": code}}}).json["system_products"]


def test_product_then_images_in_one_fifo_and_the_files_are_served(c):
    tok = login(c, "admin")
    assert queue(c, tok, "products", [product("IMG1"), product("IMG1", 2)]).status_code == 200
    r = queue(c, tok, "images", [image("IMG1", png(), "a", "IMG1-2"), image("IMG1", JPEG, "b", meta={"main_image": "true"})])
    assert r.json == {"system_images": {"sync_image": 2}}
    p = find(c, tok, "IMG1")[0]
    assert [i["source_image_code"] for i in p["images"]] == ["b", "a"]   # main_image first
    jpg, pn = p["images"]
    assert jpg["src"].endswith(".jpg") and pn["src"].endswith(".png")
    assert p["variants"][1]["image_id"] == pn["id"] and p["variants"][0]["image_id"] is None
    for img, raw, ctype in ((pn, png(), "image/png"), (jpg, JPEG, "image/jpeg")):
        for key in ("src", "src_50x50", "src_160x160"):
            url = img[key].replace("http://localhost", "")
            got = c.get(url)
            assert got.status_code == 200 and got.mimetype == ctype and got.data == raw, (key, url)
    assert "/thumb/50x50/" in pn["src_50x50"] and "/thumb/160x160/" in pn["src_160x160"]
    # the queue items record the outcome, in order
    items = c.get(f"{P}/v1/queue/items?token={tok}").json["system_queue_items"][::-1]
    assert [(i["instruction"], i["status"]) for i in items][-3:] == [
        ("sync_product", "processed"), ("sync_image", "processed"), ("sync_image", "processed")]


def test_the_documents_truncated_example_png_is_accepted(c):
    tok = login(c, "admin")
    queue(c, tok, "products", [product("IMG2")])
    assert queue(c, tok, "images", [image("IMG2", DOC_PNG)]).status_code == 200
    src = find(c, tok, "IMG2")[0]["images"][0]["src"]
    assert c.get(src.replace("http://localhost", "")).data == base64.b64decode(DOC_PNG + "==")


def test_image_before_its_product_fails_with_a_reason_and_can_be_requeued(c):
    tok = login(c, "admin")
    queue(c, tok, "images", [image("IMG3", png())])
    queue(c, tok, "products", [product("IMG3")])
    assert find(c, tok, "IMG3")[0]["images"] == []
    failed = c.get(f"{P}/v1/queue/items?token={tok}&status=failed").json["system_queue_items"]
    assert len(failed) == 1 and "IMG3" in failed[0]["log_message"] and "not found" in failed[0]["log_message"]
    assert failed[0]["message"] == failed[0]["log_message"]
    queue(c, tok, "images", [image("IMG3", png())])
    assert len(find(c, tok, "IMG3")[0]["images"]) == 1


def test_image_after_a_failed_product_fails_too(c):
    tok = login(c, "admin")
    bad = product("IMG4")
    bad["product"]["variants"][0]["option1"] = "XL"  # no product options: the product fails in the queue
    queue(c, tok, "products", [bad])
    queue(c, tok, "images", [image("IMG4", png())])
    failed = c.get(f"{P}/v1/queue/items?token={tok}&status=failed").json["system_queue_items"]
    assert [f["instruction"] for f in failed] == ["sync_image", "sync_product"]


def test_only_jpg_and_png_and_at_most_two_megabytes(c):
    tok = login(c, "admin")
    gif = base64.b64encode(b"GIF89a" + b"\x00" * 20).decode()
    err = assert_error(queue(c, tok, "images", [image("X", png()), image("X", gif)]), 400, "invalid_payload")
    assert "system_images[1]" in err["message"] and "JPEG or PNG" in err["message"]
    big = png() + b"\x00" * (2 * 1024 * 1024)
    err = assert_error(queue(c, tok, "images", [image("X", big)]), 413, "image_too_large")
    assert "2 MB" in err["message"]
    just_fits = JPEG + b"\x00" * (2 * 1024 * 1024 - len(JPEG))
    assert queue(c, tok, "images", [image("X", just_fits)]).status_code == 200
    assert_error(queue(c, tok, "images", [image("X", "")]), 400, "invalid_payload")
    assert_error(queue(c, tok, "images", [image("X", "%%%")]), 400, "invalid_payload")
    # nothing of a refused request was queued: only the one that fitted
    items = c.get(f"{P}/v1/queue/items?token={tok}&instruction=sync_image").json
    assert items["total"] == 1


def test_unknown_image_file_is_404_and_no_token_is_needed(c):
    assert_error(c.get(f"{P}/s2s-image/{'0' * 32}.png"), 404, "image_not_found")
    assert_error(c.get(f"{P}/s2s-image/thumb/75x75/{'0' * 32}.png"), 404)
    assert_error(c.get(f"{P}/s2s-image/nothex.png"), 400, "invalid_request")


def test_read_only_may_not_queue_images(c):
    tok = login(c, "read_only")
    assert_error(queue(c, tok, "images", [image("X", png())]), 403, "role_forbidden")
    tok = login(c, "trade")
    assert_error(queue(c, tok, "images", [image("X", png())]), 403, "role_forbidden")
