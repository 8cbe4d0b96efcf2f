"""Files to upload: a screenshot and a PDF (drawn by ``operator_ui.sample_files``, as the README's
screenshot uses them), a photo, and a disguised executable (this machine's own ELF binary under an
image's name)."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

from PIL import Image

from operator_ui.sample_files import pdf, screenshot

__all__ = ["executable", "oversized_png", "pdf", "photo", "screenshot"]


def photo(width: int = 640, height: int = 480) -> bytes:
    image = Image.new("RGB", (width, height), "#c0392b")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def executable() -> bytes:
    """The Python interpreter's own binary (an ELF executable here), its first 64 KiB."""
    return Path(os.path.realpath(sys.executable)).read_bytes()[:65536]


def oversized_png(size: int) -> bytes:
    """A PNG signature followed by ``size`` bytes: sniffed as an image, refused on its size."""
    return b"\x89PNG\r\n\x1a\n" + os.urandom(size)
