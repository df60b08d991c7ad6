"""Photos of a report: checked, bounded and re-encoded before they are stored.

Phones attach EXIF to photos (where they were taken, the device, sometimes the owner's name):
none of it is kept. A photo is decoded (JPEG, PNG or WebP only; a file that only claims to be
one is refused), turned upright from its EXIF orientation, shrunk to at most ``MAX_EDGE``
pixels on its long edge and written again without metadata.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from geo.errors import InvalidInput, TooLarge

FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
MAX_EDGE = 2048
MAX_PIXELS = 50_000_000  # a small file that decodes to a huge image (a decompression bomb)


@dataclass(frozen=True)
class Photo:
    media_type: str
    width: int
    height: int
    data: bytes
    sha256: str


def checked(raw: bytes, where: str, max_kb: int) -> Photo:
    if len(raw) > max_kb * 1024:
        raise TooLarge(f"{where}: {len(raw) / 1024:.0f} kB is over the limit of {max_kb} kB")
    if not raw:
        raise InvalidInput(f"{where}: the file is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(raw))
            fmt = img.format or ""
            if fmt not in FORMATS:
                raise InvalidInput(f"{where}: a {fmt or 'unknown'} file; send a JPEG, PNG or "
                                   "WebP photo")
            if img.width * img.height > MAX_PIXELS:
                raise TooLarge(f"{where}: {img.width}×{img.height} pixels is too large")
            img.load()
    except (UnidentifiedImageError, Image.DecompressionBombWarning,
            Image.DecompressionBombError, OSError, SyntaxError) as exc:
        raise InvalidInput(f"{where}: not a readable JPEG, PNG or WebP image ({exc})") from None
    return _reencoded(img, fmt)


def _reencoded(img: Image.Image, fmt: str) -> Photo:
    img = ImageOps.exif_transpose(img) or img
    img.thumbnail((MAX_EDGE, MAX_EDGE))
    out = io.BytesIO()
    if fmt == "JPEG":
        img.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
    elif fmt == "WEBP":
        img.save(out, "WEBP", quality=85)
    else:
        img.save(out, "PNG", optimize=True)
    data = out.getvalue()
    return Photo(FORMATS[fmt], img.width, img.height, data, hashlib.sha256(data).hexdigest())
