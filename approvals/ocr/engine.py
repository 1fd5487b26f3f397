"""Tesseract on one receipt: the image prepared with Pillow, a PDF's first page rendered
with poppler's `pdftoppm`, `tesseract -l deu+eng` run as a child process on one thread.

No Django here: the activity (approvals/ocr/activities.py) reads the file and stores the
result; the benchmark calls `ocr_bytes` directly.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile

from PIL import Image, ImageOps, UnidentifiedImageError

LANGUAGES = "deu+eng"
# Tesseract reads best with capital letters ~30 px high: a photo or scan narrower than
# this is scaled up, a huge photo down (time grows with the pixels).
MIN_WIDTH = 1000
MAX_WIDTH = 2000
# Pixels a receipt image may have before Pillow refuses it (decompression bombs).
MAX_PIXELS = 40_000_000
TIMEOUT_S = 30


class Unreadable(Exception):
    """The file is no image or PDF we can read (never worth a retry)."""


class EngineMissing(Exception):
    """Tesseract (or pdftoppm for a PDF) is not installed on this machine."""


def available() -> bool:
    return shutil.which("tesseract") is not None


def _env() -> dict:
    # One thread per reading: the OCR worker's concurrency is the number of cores used.
    return {**os.environ, "OMP_THREAD_LIMIT": "1"}


def pdf_first_page(data: bytes, *, dpi: int = 200) -> Image.Image:
    if shutil.which("pdftoppm") is None:
        raise EngineMissing("pdftoppm")
    with tempfile.TemporaryDirectory(prefix="receipt-") as folder:
        source = os.path.join(folder, "in.pdf")
        with open(source, "wb") as handle:
            handle.write(data)
        result = subprocess.run(
            ["pdftoppm", "-f", "1", "-l", "1", "-r", str(dpi), "-gray", "-png", source,
             os.path.join(folder, "page")],
            capture_output=True,
            timeout=TIMEOUT_S,
            env=_env(),
        )  # fmt: skip
        pages = sorted(name for name in os.listdir(folder) if name.startswith("page"))
        if result.returncode != 0 or not pages:
            raise Unreadable("the PDF has no page that can be rendered")
        with Image.open(os.path.join(folder, pages[0])) as page:
            page.load()
            return page.copy()


def load(data: bytes) -> Image.Image:
    """The receipt as a Pillow image: a PDF's first page, or the image itself."""
    if data.startswith(b"%PDF-"):
        return pdf_first_page(data)
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError) as exc:
        raise Unreadable(str(exc) or "not an image") from exc
    return image


def prepare(image: Image.Image) -> Image.Image:
    """Upright (EXIF), grey, at a width Tesseract reads well, contrast stretched, and
    flattened: uneven light is subtracted out (a blurred copy as the background) so one
    threshold fits the whole photo."""
    from PIL import ImageChops, ImageFilter

    image = ImageOps.exif_transpose(image)
    grey = ImageOps.grayscale(image.convert("RGB") if image.mode in ("P", "RGBA", "LA") else image)
    width, height = grey.size
    if width < MIN_WIDTH or width > MAX_WIDTH:
        scale = (MIN_WIDTH if width < MIN_WIDTH else MAX_WIDTH) / width
        grey = grey.resize((max(1, round(width * scale)), max(1, round(height * scale))),
                           Image.Resampling.LANCZOS)  # fmt: skip
    # Background estimate on an eighth of the size (fast): a max filter lifts the text
    # to the paper around it, a blur smooths that; scaled back up.
    small = grey.reduce(8) if min(grey.size) >= 64 else grey
    background = (
        small.filter(ImageFilter.MaxFilter(3))
        .filter(ImageFilter.GaussianBlur(3))
        .resize(grey.size, Image.Resampling.BILINEAR)
    )
    # How much darker than its surroundings each pixel is (text), light falloff removed.
    flat = ImageOps.invert(ImageChops.subtract(background, grey))
    flat = ImageOps.autocontrast(flat, cutoff=1)
    return flat.point(lambda v: 255 if v > 170 else 0, mode="L")


def tesseract(image: Image.Image, *, languages: str = LANGUAGES) -> str:
    if not available():
        raise EngineMissing("tesseract")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    try:
        result = subprocess.run(
            ["tesseract", "stdin", "stdout", "-l", languages, "--psm", "4", "--dpi", "300"],
            input=buffer.getvalue(),
            capture_output=True,
            timeout=TIMEOUT_S,
            env=_env(),
        )
    except subprocess.TimeoutExpired as exc:
        raise TimeoutError("tesseract took too long") from exc
    if result.returncode != 0:
        raise RuntimeError(result.stderr.decode("utf-8", "replace")[-500:])
    return result.stdout.decode("utf-8", "replace")


def ocr_bytes(data: bytes) -> str:
    """The text Tesseract reads on the receipt file `data` (image or PDF)."""
    return tesseract(prepare(load(data)))
