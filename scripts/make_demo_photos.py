"""Make the two demo ID photos from public-domain images that ship inside packages.

    uv run python scripts/make_demo_photos.py

Writes src/haoban/sandbox/photos/{grace_hopper,astronaut}.jpg and checks that
face_recognition finds exactly one face in each. Needs the dev group
(matplotlib and scikit-image provide the source images).

- grace_hopper.jpg: matplotlib's sample data (US Navy photo, public domain).
- astronaut.jpg: scikit-image's `data.astronaut()` (NASA photo of Eileen Collins,
  public domain), cropped to her face: in the full image the detector also finds
  a false face in the background.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import face_recognition
import numpy as np
from matplotlib import cbook
from PIL import Image
from skimage import data

OUT = Path(__file__).resolve().parents[1] / "src" / "haoban" / "sandbox" / "photos"
MAX_SIDE = 640
QUALITY = 90
MAX_BYTES = 100_000

# Rows and columns of the 512x512 astronaut image that hold her face and shoulders.
ASTRONAUT_CROP = (slice(0, 230), slice(130, 330))


def _jpeg(image: Image.Image) -> bytes:
    image = image.convert("RGB")
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=QUALITY, optimize=True)
    return buf.getvalue()


def _faces(jpeg: bytes) -> int:
    pixels = face_recognition.load_image_file(io.BytesIO(jpeg))
    return len(face_recognition.face_locations(pixels))


def sources() -> dict[str, Image.Image]:
    hopper_path = cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    full = data.astronaut()  # type: ignore[no-untyped-call]
    astronaut = np.ascontiguousarray(full[ASTRONAUT_CROP])
    return {
        "grace_hopper.jpg": Image.open(hopper_path),
        "astronaut.jpg": Image.fromarray(astronaut),
    }


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    failed = False
    for name, image in sources().items():
        jpeg = _jpeg(image)
        faces = _faces(jpeg)
        ok = faces == 1 and len(jpeg) < MAX_BYTES
        failed |= not ok
        (OUT / name).write_bytes(jpeg)
        note = "" if ok else "  <-- want exactly 1 face and < 100 KB"
        print(f"{name}: {len(jpeg)} bytes, {faces} face(s){note}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
