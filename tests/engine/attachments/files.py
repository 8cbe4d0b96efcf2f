"""Files to upload, made here: a screenshot, a photo, a PDF, and a disguised executable (this
machine's own ELF binary under an image's name)."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

from PIL import Image, ImageDraw


def screenshot(width: int = 1200, height: int = 800, color: str = "#2d6cdf") -> bytes:
    """A PNG with something drawn on it (a thumbnail of a flat colour would prove little)."""
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, 60), fill=color)
    draw.rectangle((40, 120, width - 40, 300), outline="black", width=4)
    draw.text((60, 140), "Error 504: payment failed", fill="red")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def photo(width: int = 640, height: int = 480) -> bytes:
    image = Image.new("RGB", (width, height), "#c0392b")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def pdf(text: str = "Invoice 1234") -> bytes:
    """A small valid PDF (one page, one line of text)."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def executable() -> bytes:
    """The Python interpreter's own binary (an ELF executable here), its first 64 KiB."""
    return Path(os.path.realpath(sys.executable)).read_bytes()[:65536]


def oversized_png(size: int) -> bytes:
    """A PNG signature followed by ``size`` bytes: sniffed as an image, refused on its size."""
    return b"\x89PNG\r\n\x1a\n" + os.urandom(size)
