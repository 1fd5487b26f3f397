"""Tesseract on receipts the suite draws: the amount and date come back right; a PDF's
first page is read; a photo taken sideways (EXIF) is turned upright; a file that is no
image is refused as unreadable (never retried)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from approvals.ocr import engine, samples
from approvals.ocr.parse import parse_receipt


def test_drawn_receipts_are_read_right(drawn):
    right = 0
    for sample, data in drawn:
        reading = parse_receipt(engine.ocr_bytes(data), sample.language)
        right += (reading.amount, reading.date) == (sample.amount, sample.date)
        # Whatever was read is what the receipt shows (never another number).
        assert reading.amount in (None, sample.amount)
    assert right >= 7, f"{right}/8 read right"


def test_a_pdf_receipt_is_read_from_its_first_page(drawn):
    sample, _ = drawn[0]
    buffer = io.BytesIO()
    samples.render(sample).convert("RGB").save(buffer, format="PDF", resolution=150)
    reading = parse_receipt(engine.ocr_bytes(buffer.getvalue()), sample.language)
    assert (reading.amount, reading.date, reading.currency) == (
        sample.amount,
        sample.date,
        sample.currency,
    )


def test_a_sideways_photo_is_turned_upright_by_its_exif(drawn):
    sample, _ = drawn[1]
    sideways = samples.render(sample).rotate(90, expand=True)  # stored turned left
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera held sideways: "turn 90° clockwise to view"
    buffer = io.BytesIO()
    sideways.convert("RGB").save(buffer, format="JPEG", quality=90, exif=exif)
    reading = parse_receipt(engine.ocr_bytes(buffer.getvalue()), sample.language)
    assert reading.amount == sample.amount


def test_a_photographed_receipt_is_read(drawn):
    import random

    sample, _ = drawn[2]
    photo = samples.photograph(samples.render(sample), random.Random(3))
    reading = parse_receipt(engine.ocr_bytes(samples.jpeg_bytes(photo)), sample.language)
    assert (reading.amount, reading.date) == (sample.amount, sample.date)


@pytest.mark.parametrize(
    "data",
    [b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR" + b"\x00" * 40, b"%PDF-1.4\nnothing\n%%EOF"],
    ids=["broken-png", "empty-pdf"],
)
def test_a_broken_file_is_unreadable(data):
    with pytest.raises(engine.Unreadable):
        engine.ocr_bytes(data)


def test_a_huge_image_is_refused_not_decoded():
    buffer = io.BytesIO()
    Image.new("1", (9000, 9000), 1).save(buffer, format="PNG")  # 81 MP, tiny file
    with pytest.raises(engine.Unreadable):
        engine.ocr_bytes(buffer.getvalue())
