"""What a file is, from its bytes: the allow-list of types, their size limits, and the check that
refuses a disguised file (an executable named ``.png``) or an oversized one with a message naming
what is wrong.

The type comes from the content (``filetype`` reads the magic numbers), never from the name or the
``Content-Type`` a client declared: both are the sender's claim. The name only has to agree with the
content's category (a JPEG named ``.png`` is still an image; a PDF named ``.png`` is not). Text has
no magic number: bytes that no signature matches are text when they decode as UTF-8 without control
characters. Images are opened with Pillow as well, so a PNG header over garbage, or a decompression
bomb, is refused before anything is stored.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import PurePosixPath

import filetype
from PIL import Image, UnidentifiedImageError

from engine.settings import MiB

# content type -> (category, the extensions its name may carry; the first is the usual one)
ALLOWED: dict[str, tuple[str, tuple[str, ...]]] = {
    "image/png": ("image", ("png",)),
    "image/jpeg": ("image", ("jpg", "jpeg", "jfif", "jpe")),
    "image/gif": ("image", ("gif",)),
    "image/webp": ("image", ("webp",)),
    "image/heic": ("image", ("heic", "heif")),
    "application/pdf": ("pdf", ("pdf",)),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("document", ("docx",)),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("document", ("xlsx",)),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ("document", ("pptx",)),
    "application/vnd.oasis.opendocument.text": ("document", ("odt",)),
    "application/vnd.oasis.opendocument.spreadsheet": ("document", ("ods",)),
    "application/vnd.oasis.opendocument.presentation": ("document", ("odp",)),
    "text/plain": ("text", ("txt", "log", "md")),
    "text/csv": ("text", ("csv",)),
    "audio/mpeg": ("audio", ("mp3",)),
    "audio/mp4": ("audio", ("m4a",)),
    "audio/ogg": ("audio", ("ogg", "oga", "opus")),
    "audio/amr": ("audio", ("amr",)),  # MMS voice notes
    "audio/x-wav": ("audio", ("wav",)),
    "video/mp4": ("video", ("mp4", "m4v")),
    "video/quicktime": ("video", ("mov",)),
    "video/3gpp": ("video", ("3gp",)),  # MMS video
    "video/webm": ("video", ("webm",)),
}
CATEGORY_NAMES = {"image": "an image", "pdf": "a PDF document", "document": "an office document",
                  "text": "a text file", "audio": "an audio file", "video": "a video"}
# names for types refused outright, so the message says what the file really is
KNOWN_REFUSED = {"application/x-executable": "an executable (ELF)",
                 "application/x-msdownload": "a Windows executable",
                 "application/wasm": "a WebAssembly program",
                 "application/zip": "a ZIP archive", "application/x-rar-compressed": "a RAR archive",
                 "application/x-7z-compressed": "a 7-Zip archive", "application/x-tar": "a tar archive",
                 "application/gzip": "a gzip archive", "application/x-deb": "a Debian package",
                 "application/x-rpm": "an RPM package", "application/msword": "a legacy Office file (macros)",
                 "application/vnd.ms-excel": "a legacy Office file (macros)",
                 "application/vnd.ms-powerpoint": "a legacy Office file (macros)",
                 "application/x-shockwave-flash": "a Flash file",
                 "application/x-sqlite3": "a SQLite database"}
MAX_PIXELS = 50_000_000  # larger images are refused: decoding them is a way to exhaust memory
NAME_LIMIT = 120
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]+')


class FileRefused(Exception):
    """A file that is not taken; ``status`` is 413 (too large), 415 (a type not accepted, or a name
    that disagrees with the content) or 422 (empty, unreadable)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message, self.status = message, status


@dataclass(frozen=True)
class Checked:
    """What the bytes are: ``filename`` cleaned (with the usual extension added when it had none)."""

    filename: str
    content_type: str
    category: str
    size: int
    width: int | None = None
    height: int | None = None

    @property
    def image(self) -> bool:
        return self.category == "image"


def clean_name(name: str | None) -> str:
    """The last path part of ``name``, without control or reserved characters, at most
    :data:`NAME_LIMIT` characters with its extension kept."""
    name = unicodedata.normalize("NFC", (name or "").replace("\\", "/")).rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).strip(" .") or "file"
    if len(name) > NAME_LIMIT:
        stem, dot, ext = name.rpartition(".")
        keep_ext = dot and len(ext) <= 10
        name = (stem[: NAME_LIMIT - len(ext) - 1] + dot + ext) if keep_ext else name[:NAME_LIMIT]
    return name


def _extension(name: str) -> str:
    suffix = PurePosixPath(name).suffix
    return suffix[1:].lower() if suffix else ""


def _is_text(data: bytes) -> bool:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    return not any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f" for ch in text)


def sniff(data: bytes, extension: str) -> str | None:
    """The content type of ``data`` from its bytes; None when nothing is recognised."""
    kind = filetype.guess(data)
    if kind is not None:
        return kind.mime
    if _is_text(data):
        return "text/csv" if extension == "csv" else "text/plain"
    return None


def _describe(mime: str | None) -> str:
    if mime is None:
        return "binary data of no type this inbox accepts"
    if mime in ALLOWED:
        return CATEGORY_NAMES[ALLOWED[mime][0]] + f" ({mime})"
    return KNOWN_REFUSED.get(mime, f"of type {mime}")


def accepted_list(limits: dict[str, int]) -> str:
    return ", ".join(f"{CATEGORY_NAMES[c].split(' ', 1)[1]}s up to {limit // MiB} MiB"
                     for c, limit in limits.items() if limit > 0)


def check(name: str | None, data: bytes, limits: dict[str, int]) -> Checked:
    """``data`` as an accepted file, or :class:`FileRefused` saying what is wrong with it."""
    filename = clean_name(name)
    if not data:
        raise FileRefused(f"{filename} is empty", 422)
    extension = _extension(filename)
    mime = sniff(data, extension)
    if mime not in ALLOWED or limits.get(ALLOWED[mime][0], 0) <= 0:
        raise FileRefused(f"{filename} is {_describe(mime)}, which is not accepted; accepted: "
                          f"{accepted_list(limits)}", 415)
    category, extensions = ALLOWED[mime]
    if not extension:
        filename = f"{filename}.{extensions[0]}"
    elif not any(extension in exts for cat, exts in ALLOWED.values() if cat == category):
        raise FileRefused(f"{filename} is named as a .{extension} file but its bytes are {_describe(mime)}; "
                          f"a file must be what its name says (rename it .{extensions[0]})", 415)
    limit = limits[category]
    if len(data) > limit:
        raise FileRefused(f"{filename} is {len(data) / MiB:.1f} MiB; {CATEGORY_NAMES[category]} may be at "
                          f"most {limit / MiB:g} MiB", 413)
    width = height = None
    if category == "image" and mime != "image/heic":  # Pillow reads no HEIC without a plugin
        width, height = _image_size(filename, data)
    return Checked(filename=filename, content_type=mime, category=category, size=len(data), width=width,
                   height=height)


def _image_size(filename: str, data: bytes) -> tuple[int, int]:
    """Pillow must read the whole image: a valid header over garbage is not an image."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise FileRefused(f"{filename} is {width}×{height} pixels; images may have at most "
                                  f"{MAX_PIXELS // 1_000_000} megapixels", 413)
            image.verify()
    except FileRefused:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise FileRefused(f"{filename} is not a readable image ({exc})", 422) from exc
    return width, height
