"""Receipt previews: a PNG of at most ~600 px of an image receipt, or of a PDF's first page.

Made with Pillow (images) and pypdfium2 (PDFs: a self-contained wheel, no system
library; poppler's `pdftoppm` where the wheel is missing) and cached in the default
storage under `thumbs/`, keyed by the receipt's SHA-256, so the same file is rendered
once whoever looks at it. The cache is never served by itself: only the receipt views,
which check who may see the request, read it. A file that cannot be read (corrupt,
truncated, a decompression bomb, an encrypted PDF) gives `None`; the view then answers
with a placeholder, never a 500.
"""

from __future__ import annotations

import hashlib
import io
import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageDraw, ImageOps

log = logging.getLogger(__name__)

MAX_SIDE = 600
# Version of the rendering: bump to make every cached preview anew.
VERSION = "v1"
# Larger images (decompression bombs) are not decoded: a placeholder.
MAX_PIXELS = 60_000_000
# What a receipt upload may be at most (the form refuses more); never read past it.
MAX_BYTES = 12 * 1024 * 1024

PDF_MAGIC = b"%PDF-"


def _read(field) -> bytes | None:
    try:
        with field.open("rb") as handle:
            return handle.read(MAX_BYTES + 1)
    except (FileNotFoundError, OSError, ValueError):
        return None


def sniff(data: bytes) -> str:
    """The receipt's real type from its first bytes: what it says it is does not count."""
    if data.startswith(PDF_MAGIC):
        return "application/pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return "application/octet-stream"


def _fit(image: Image.Image) -> bytes:
    image = ImageOps.exif_transpose(image)
    if image.mode not in ("RGB", "L"):
        background = Image.new("RGB", image.size, "white")
        rgba = image.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        image = background
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def _image_preview(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        if image.width * image.height > MAX_PIXELS:
            raise ValueError(f"image too large: {image.width}x{image.height}")
        image.draft("RGB", (MAX_SIDE * 2, MAX_SIDE * 2))  # JPEG: decode at a smaller scale
        image.load()
        return _fit(image)


def _pdf_preview(data: bytes) -> bytes:
    try:
        import pypdfium2 as pdfium
    except ImportError:  # an environment without the wheel: poppler, where installed
        return _pdftoppm_preview(data)

    document = pdfium.PdfDocument(data)
    try:
        if len(document) == 0:
            raise ValueError("PDF without pages")
        page = document[0]
        width, height = page.get_size()  # in points (1/72 inch)
        scale = min(4.0, MAX_SIDE / max(width, height, 1))
        bitmap = page.render(scale=scale)
        image = bitmap.to_pil()
        try:
            return _fit(image.convert("RGB"))
        finally:
            page.close()
    finally:
        document.close()


def _pdftoppm_preview(data: bytes) -> bytes:
    """The first page through poppler's `pdftoppm` (Makefile `poppler`), with a time limit."""
    tool = shutil.which("pdftoppm")
    if tool is None:
        raise RuntimeError("neither pypdfium2 nor pdftoppm is installed")
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "in.pdf"
        source.write_bytes(data)
        subprocess.run(
            [
                tool,
                "-png",
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                "-scale-to",
                str(MAX_SIDE),
                str(source),
                str(Path(tmp) / "out"),
            ],
            check=True,
            capture_output=True,
            timeout=20,
        )
        with Image.open(Path(tmp) / "out.png") as image:
            image.load()
            return _fit(image)


def render_preview(data: bytes) -> bytes | None:
    """A PNG preview of a receipt's bytes, or None when they cannot be read as one."""
    if len(data) > MAX_BYTES:
        return None
    kind = sniff(data)
    try:
        if kind == "application/pdf":
            return _pdf_preview(data)
        if kind.startswith("image/"):
            return _image_preview(data)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is a placeholder
        log.info("receipt preview failed (%s): %s", kind, exc)
    return None


def _cache_name(sha256: str) -> str:
    return f"thumbs/{sha256[:2]}/{sha256}-{VERSION}-{MAX_SIDE}.png"


def preview_of(field, sha256: str = "") -> bytes | None:
    """The cached preview of a stored receipt (made on first use); None when unreadable."""
    data = None
    if not sha256:
        data = _read(field)
        if data is None:
            return None
        sha256 = hashlib.sha256(data).hexdigest()
    name = _cache_name(sha256)
    try:
        if default_storage.exists(name):
            with default_storage.open(name, "rb") as cached:
                return cached.read()
    except OSError:
        pass
    if data is None:
        data = _read(field)
        if data is None:
            return None
    png = render_preview(data)
    if png is None:
        return None
    try:
        if not default_storage.exists(name):
            default_storage.save(name, ContentFile(png))
    except OSError as exc:  # a full disk costs a re-render, not the page
        log.warning("could not cache receipt preview %s: %s", name, exc)
    return png


_placeholder: bytes | None = None


def placeholder() -> bytes:
    """A neutral image for a receipt that cannot be shown (no words: no language)."""
    global _placeholder
    if _placeholder is None:
        image = Image.new("RGB", (240, 320), (238, 238, 238))
        draw = ImageDraw.Draw(image)
        draw.rectangle((20, 20, 219, 299), outline=(150, 150, 150), width=3)
        draw.line((20, 20, 219, 299), fill=(150, 150, 150), width=3)
        draw.line((219, 20, 20, 299), fill=(150, 150, 150), width=3)
        out = io.BytesIO()
        image.save(out, "PNG")
        _placeholder = out.getvalue()
    return _placeholder
