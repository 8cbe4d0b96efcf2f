"""Thumbnails of images: at most :data:`SIZE` pixels a side, turned upright from the camera's EXIF
orientation and without its metadata (a photo's GPS position is not copied into the thumbnail).
PNG for images with transparency, JPEG otherwise. Runs off the event loop (the caller's thread)."""

from __future__ import annotations

import io

from PIL import Image, ImageOps

SIZE = 320


def thumbnail(data: bytes) -> tuple[bytes, str] | None:
    """The thumbnail's bytes and content type, or None when Pillow cannot draw this image (HEIC)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.seek(0)  # the first frame of an animation
            picture = ImageOps.exif_transpose(image)
            picture.thumbnail((SIZE, SIZE))
            alpha = picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info
            out = io.BytesIO()
            if alpha:
                picture.convert("RGBA").save(out, "PNG", optimize=True)
                return out.getvalue(), "image/png"
            picture.convert("RGB").save(out, "JPEG", quality=82, optimize=True)
            return out.getvalue(), "image/jpeg"
    except (OSError, ValueError, SyntaxError):
        return None
