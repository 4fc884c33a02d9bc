"""Schemathesis hooks for scripts/fuzz.py: real bytes for the binary upload media types.

Schemathesis cannot make up a PDF, JPEG or PNG from the spec; each is drawn from a few
real files (and a few broken ones, which the server must refuse with a 4xx).
"""

from __future__ import annotations

import io

import schemathesis
from hypothesis import strategies as st
from PIL import Image


def _image(fmt: str, size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(out, format=fmt)
    return out.getvalue()


_PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
_BROKEN = [b"", b"not a file", b"\x00" * 64, b"\xff\xd8\xff" + b"\x00" * 32]

schemathesis.openapi.media_type("application/pdf", st.sampled_from([_PDF, *_BROKEN]))
schemathesis.openapi.media_type("image/jpeg", st.sampled_from([_image("JPEG", (32, 24)), *_BROKEN]))
schemathesis.openapi.media_type("image/png", st.sampled_from([_image("PNG", (16, 16)), *_BROKEN]))


@schemathesis.serializer("application/pdf", "image/jpeg", "image/png")
def raw_bytes(_ctx: schemathesis.SerializationContext, value: object) -> dict[str, object]:
    """The drawn file as the request body, unchanged."""
    return {"data": value if isinstance(value, bytes) else _PDF}
