"""Files drawn here rather than shipped: a screenshot of a checkout error and a one-page PDF, for the
widget's screenshot (``operator_ui.files_screenshot``) and the attachment tests."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont


def screenshot(width: int = 1200, height: int = 800, color: str = "#2d6cdf") -> bytes:
    """A PNG of a shop's checkout page showing a payment error."""
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    scale = width / 1200

    def at(x: float, y: float) -> tuple[int, int]:
        return int(x * scale), int(y * scale)

    def font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
        return ImageFont.load_default(size=max(8, int(size * scale)))

    draw.rectangle((0, 0, width, int(90 * scale)), fill=color)
    draw.text(at(40, 26), "Lumen & Co  |  Checkout", fill="white", font=font(36))
    draw.rectangle((*at(60, 140), width - int(60 * scale), int(330 * scale)), outline="#c0392b",
                   width=max(2, int(5 * scale)), fill="#fdecea")
    draw.text(at(100, 175), "Payment failed (error 504)", fill="#c0392b", font=font(48))
    draw.text(at(100, 255), "Your card was not charged. Please try again later.", fill="#444", font=font(30))
    for row, label in enumerate(("Card number", "Name on card", "Expiry")):
        top = 380 + row * 95
        draw.text(at(62, top), label, fill="#667", font=font(22))
        draw.rectangle((*at(60, top + 30), width - int(60 * scale), int((top + 80) * scale)), outline="#ccd",
                       width=2)
    draw.rectangle((*at(840, 690), *at(1140, 760)), fill=color)
    draw.text(at(900, 705), "Pay GBP 84.00", fill="white", font=font(32))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def pdf(text: str = "Invoice 1234") -> bytes:
    """A small valid PDF: one page, one line of text."""
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
