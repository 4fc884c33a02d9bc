"""Schemathesis hooks for scripts/fuzz.py: request bodies for the binary upload media types.

Schemathesis has no serializer for application/pdf, image/jpeg or image/png. The spec's
schema for them is a binary string, so generated values are bytes (random ones, which the
server must refuse with a 4xx) or, from the spec's example, text; text is replaced by a
real small file of the media type, so the examples phase sends something acceptable.
"""

from __future__ import annotations

import io

import schemathesis
from PIL import Image


def _image(fmt: str, size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(out, format=fmt)
    return out.getvalue()


_FILES = {
    "application/pdf": b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n",
    "image/jpeg": _image("JPEG", (32, 24)),
    "image/png": _image("PNG", (16, 16)),
}


@schemathesis.serializer(*_FILES)
def raw_bytes(ctx: schemathesis.SerializationContext, value: object) -> dict[str, object]:
    if isinstance(value, bytes):
        return {"data": value}
    media_type = (ctx.case.media_type or "application/pdf").split(";")[0].strip()
    return {"data": _FILES.get(media_type, _FILES["application/pdf"])}
