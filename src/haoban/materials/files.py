"""What an uploaded file is, by its first bytes (pure)."""

from __future__ import annotations

import io

from PIL import Image, UnidentifiedImageError

MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000


def mib(n: int) -> str:
    """A byte count as people read a binary limit: `5 MiB` (a decimal megabyte would be 5,000,000 bytes)."""
    return f"{n / 1024 / 1024:g} MiB"


LIMIT_TEXT = f"{mib(MAX_BYTES)} ({MAX_BYTES:,} bytes)"

CONTENT_TYPES = ("image/jpeg", "image/png", "application/pdf")
_MAGIC = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"%PDF-", "application/pdf"),
)


def sniff(content: bytes) -> str | None:
    """The content type its magic bytes say, if it is one we accept."""
    for magic, content_type in _MAGIC:
        if content.startswith(magic):
            return content_type
    return None


def problem(content: bytes, declared: str | None) -> tuple[str | None, str | None]:
    """`(content_type, None)` for an acceptable file, else `(None, why)`."""
    if not content:
        return None, "the body is empty"
    if len(content) > MAX_BYTES:
        return None, f"the file is larger than {mib(MAX_BYTES)}"
    content_type = sniff(content)
    if content_type is None:
        return None, "not a JPEG, PNG or PDF file"
    base = (declared or "").split(";", 1)[0].strip().lower()
    if base and base not in ("application/octet-stream", content_type):
        return None, f"Content-Type says {base} but the file is {content_type}"
    if content_type != "application/pdf" and (why := _image_problem(content)):
        return None, why
    return content_type, None


def _image_problem(content: bytes) -> str | None:
    """A header that parses and a sane size; the pixels are never decoded here."""
    try:
        with Image.open(io.BytesIO(content)) as image:
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return "the image is damaged or not readable"
    if width * height > MAX_PIXELS:
        return "the image has too many pixels"
    return None
