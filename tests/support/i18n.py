"""The German catalog as written (locale/de/LC_MESSAGES/django.po), for tests that
expect a translation the lead compiles later: they read what the catalog says."""

from __future__ import annotations

import re
from pathlib import Path

from . import ROOT

DE_PO = ROOT / "locale" / "de" / "LC_MESSAGES" / "django.po"
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')


def po_translation(msgid: str, path: Path = DE_PO) -> str:
    """The msgstr of `msgid` ('' when absent, untranslated or fuzzy)."""
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        if "#, fuzzy" in block or "msgid_plural" in block:
            continue
        parts = re.split(r"^msgstr ", block, maxsplit=1, flags=re.M)
        if len(parts) != 2 or "msgid " not in parts[0]:
            continue
        ident = "".join(_QUOTED.findall(parts[0].split("msgid ", 1)[1]))
        if ident == msgid:
            return "".join(_QUOTED.findall(parts[1]))
    return ""
