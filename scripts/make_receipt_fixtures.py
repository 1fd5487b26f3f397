#!/usr/bin/env python
"""Write tests/fixtures/receipts/: a handful of photographed-looking receipts (JPEG) and
expected.json with the values each one shows.

    .venv/bin/python scripts/make_receipt_fixtures.py [--count 8] [--seed 2026]

Each receipt is drawn with Pillow (approvals/ocr/samples.py: German and English layouts,
Debian's DejaVu fonts), then made to look like a phone photo: on a darker table, turned
a few degrees, light falling off to one side, noise, a little blur, JPEG at quality 70.
Run once; the files are committed so the suite and `make bench-ocr` read the same
pixels on every machine (a font update cannot change them).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from approvals.ocr import samples  # noqa: E402  (pure: Pillow and the standard library)

OUT = ROOT / "tests" / "fixtures" / "receipts"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=8)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    rnd = random.Random(args.seed)
    OUT.mkdir(parents=True, exist_ok=True)
    expected = {}
    for n, sample in enumerate(samples.samples(args.count, seed=args.seed), start=1):
        name = f"photo-{n:02d}-{sample.language}.jpg"
        photo = samples.photograph(samples.render(sample), rnd)
        (OUT / name).write_bytes(samples.jpeg_bytes(photo, quality=70))
        expected[name] = sample.expected()
    (OUT / "expected.json").write_text(json.dumps(expected, indent=2, ensure_ascii=False) + "\n")
    print(f"{len(expected)} receipts in {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
