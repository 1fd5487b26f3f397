"""Receipts drawn with Pillow, German and English layouts, with the values they show:
the OCR tests, the benchmark (bench/ocr.py) and the photographed-looking fixtures
(scripts/make_receipt_fixtures.py) all read these. Deterministic for a seed.

Fonts are Debian's DejaVu (fonts-dejavu-core, present wherever Chromium is); a missing
font falls back to Pillow's own scalable default.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from approvals import money

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS = ("DejaVuSans.ttf", "DejaVuSansMono.ttf", "DejaVuSerif.ttf", "DejaVuSansCondensed.ttf")

MERCHANTS_DE = (
    "Taxi Berlin GmbH",
    "Hotel Adlon Kempinski",
    "Deutsche Bahn AG",
    "Restaurant Zur Post",
    "Bäckerei Müller",
    "Gasthaus Krone",
    "Tankstelle Aral",
    "Buchhandlung Lehmann",
    "Café Einstein",
    "Parkhaus Mitte",
)
MERCHANTS_EN = (
    "The Ivy Restaurant",
    "Pret A Manger",
    "Heathrow Express",
    "Premier Inn",
    "Waterstones Books",
    "Black Cab London",
    "Costa Coffee",
    "Office Supplies Ltd",
    "Conference Centre",
    "Dishoom Covent Garden",
)
ITEMS_DE = (
    "Fahrpreis",
    "Übernachtung",
    "Fahrkarte",
    "Menü",
    "Kaffee",
    "Wasser",
    "Brötchen",
    "Parkgebühr",
    "Buch",
    "Frühstück",
)
ITEMS_EN = (
    "Fare",
    "Room",
    "Ticket",
    "Lunch",
    "Coffee",
    "Water",
    "Sandwich",
    "Parking",
    "Book",
    "Breakfast",
)


@dataclass(frozen=True)
class Sample:
    language: str  # "de" / "en"
    merchant: str
    date: dt.date
    currency: str
    amount: Decimal
    vat: Decimal
    lines: tuple[str, ...]  # the text drawn, top to bottom
    font: str

    def expected(self) -> dict:
        return {
            "amount": f"{self.amount:f}",
            "currency": self.currency,
            "date": self.date.isoformat(),
            "merchant": self.merchant,
            "vat": f"{self.vat:f}",
            "language": self.language,
        }


def _spell(amount: Decimal, language: str) -> str:
    decimal, group = (",", ".") if language == "de" else (".", ",")
    return money.spell(amount, places=2, decimal=decimal, group=group)


def make_sample(rnd: random.Random) -> Sample:
    language = rnd.choice(("de", "en"))
    merchants, items = (MERCHANTS_DE, ITEMS_DE) if language == "de" else (MERCHANTS_EN, ITEMS_EN)
    merchant = rnd.choice(merchants)
    date = dt.date(2026, 1, 1) + dt.timedelta(days=rnd.randrange(365))
    currency = "EUR" if language == "de" else rnd.choice(("GBP", "GBP", "EUR"))
    rate = Decimal(rnd.choice(("0.19", "0.07"))) if language == "de" else Decimal("0.20")
    positions = [
        (rnd.choice(items), Decimal(rnd.randrange(150, 250_000 if rnd.random() < 0.2 else 15_000))
         / 100)
        for _ in range(rnd.randint(1, 4))
    ]  # fmt: skip
    amount = sum((price for _, price in positions), Decimal(0)).quantize(Decimal("0.01"))
    vat = (amount * rate / (1 + rate)).quantize(Decimal("0.01"))
    mark = {"EUR": rnd.choice(("EUR", "€")), "GBP": rnd.choice(("GBP", "£"))}[currency]

    def money_text(value: Decimal) -> str:
        text = _spell(value, language)
        return f"{mark}{text}" if mark == "£" else f"{text} {mark}"

    if language == "de":
        lines = [
            merchant,
            "Hauptstraße 12",
            "10115 Berlin",
            "Tel. 030 1234567",
            "",
            f"Datum: {date:%d.%m.%Y}  {rnd.randrange(7, 22):02d}:{rnd.randrange(60):02d}",
            "",
            *(f"{name:<16}{_spell(price, language):>12}" for name, price in positions),
            "-" * 28,
            f"{'Summe':<12}{money_text(amount):>16}",
            f"MwSt {int(rate * 100)}%  {_spell(vat, language):>12}",
            "",
            "Vielen Dank für Ihren Besuch!",
        ]
    else:
        lines = [
            merchant,
            "12 High Street",
            "London W1D 2AB",
            "",
            f"Date: {date:%d/%m/%Y}",
            "",
            *(f"{name:<16}{_spell(price, language):>12}" for name, price in positions),
            "-" * 28,
            f"VAT 20%  {_spell(vat, language):>12}",
            f"{'Total':<12}{money_text(amount):>16}",
            "",
            "Thank you!",
        ]
    return Sample(language, merchant, date, currency, amount, vat, tuple(lines), rnd.choice(FONTS))


def samples(count: int, seed: int = 26) -> list[Sample]:
    rnd = random.Random(seed)
    return [make_sample(rnd) for _ in range(count)]


def font(name: str, size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.truetype(str(FONT_DIR / name), size)
    except OSError:
        return ImageFont.load_default(size)


def render(sample: Sample, *, width: int = 720, size: int = 26) -> Image.Image:
    """The receipt as a clean scan: black text on white, one line per row."""
    face = font(sample.font, size)
    step = int(size * 1.5)
    image = Image.new("L", (width, 60 + step * len(sample.lines)), 255)
    draw = ImageDraw.Draw(image)
    for row, text in enumerate(sample.lines):
        draw.text((30, 30 + row * step), text, font=face, fill=0)
    return image


def photograph(image: Image.Image, rnd: random.Random) -> Image.Image:
    """The clean scan as a phone photo: on a darker table, turned a few degrees, light
    falling off to one side, sensor noise, a little blur; JPEG-compressed by the caller."""
    paper = image.convert("RGB")
    angle = rnd.uniform(-4, 4)
    table = (rnd.randrange(60, 110),) * 3
    turned = paper.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=table)
    width, height = turned.size
    # Uneven light: a horizontal gradient multiplied in.
    light = Image.linear_gradient("L").rotate(rnd.choice((90, -90)), expand=True)
    light = light.resize((width, height)).point(lambda v: 150 + v * 105 // 255)
    lit = Image.composite(turned, Image.new("RGB", turned.size, (0, 0, 0)), light)
    noise = Image.effect_noise((width, height), rnd.uniform(12, 24)).convert("RGB")
    noisy = Image.blend(lit, noise, 0.08)
    return noisy.filter(ImageFilter.GaussianBlur(rnd.uniform(0.5, 1.1)))


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg_bytes(image: Image.Image, quality: int = 70) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()
