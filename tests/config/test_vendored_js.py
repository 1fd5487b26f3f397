"""The served idiomorph file is the pinned npm package's own (package-lock.json), and no
page loads a script from anywhere but this site."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENDORED = ROOT / "static" / "vendor" / "idiomorph-ext.min.js"
PACKAGE = ROOT / "node_modules" / "idiomorph"


def test_vendored_idiomorph_is_the_pinned_package_file():
    if not (PACKAGE / "dist" / "idiomorph-ext.min.js").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=ROOT, check=True)
    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"]["idiomorph"]
    locked = json.loads((ROOT / "package-lock.json").read_text())["packages"]
    assert locked["node_modules/idiomorph"]["version"] == pinned  # an exact pin, locked
    assert json.loads((PACKAGE / "package.json").read_text())["version"] == pinned
    assert VENDORED.read_bytes() == (PACKAGE / "dist" / "idiomorph-ext.min.js").read_bytes(), (
        "static/vendor/idiomorph-ext.min.js differs from the pinned package: run make vendor-js"
    )


def test_scripts_come_from_this_site_only():
    base = (ROOT / "templates" / "base.html").read_text()
    sources = re.findall(r"<script[^>]*\ssrc=\"([^\"]+)\"", base)
    assert "{% static 'vendor/idiomorph-ext.min.js' %}" in sources
    assert not [s for s in sources if "//" in s]
