"""English and German: language from the browser or the switcher, localized
amounts and dates, and a German catalog that is complete and compiled."""

from __future__ import annotations

import ast
import gettext
import re
import shutil
import subprocess
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from approvals.models import ExpenseRequest
from tests.support import ROOT
from tests.support.processes import clean_env

PO = ROOT / "locale" / "de" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def test_login_page_is_german_when_the_browser_asks_for_it(client, db):
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9").content.decode()
    assert '<html lang="de">' in page
    assert "Anmelden" in page and "Benutzername" in page and "Passwort" in page
    assert "Sign in" not in page


def test_login_page_is_english_by_default(client, db):
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert '<html lang="en">' in page
    assert "Sign in" in page


def test_switcher_sets_the_language_for_later_pages(client, demo_org):
    client.force_login(demo_org["emma"])
    response = client.post("/i18n/setlang/", {"language": "de", "next": "/requests/"})
    assert response.status_code == 302
    assert response["Location"] == "/requests/"
    page = client.get("/requests/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Meine Anträge" in page and "Abmelden" in page
    client.post("/i18n/setlang/", {"language": "en", "next": "/requests/"})
    assert "My requests" in client.get("/requests/").content.decode()


def test_amounts_and_dates_are_formatted_per_locale(client, demo_org):
    emma = demo_org["emma"]
    expense = ExpenseRequest.objects.create(
        requester=emma, title="Laptop stand", amount=Decimal("1234.50"), category="equipment"
    )
    submitted = datetime(2026, 3, 5, 14, 7, tzinfo=ZoneInfo("Europe/Berlin"))
    ExpenseRequest.objects.filter(pk=expense.pk).update(created_at=submitted)
    client.force_login(emma)
    german = client.get("/requests/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "1.234,50 EUR" in german
    assert "05.03.2026, 14:07" in german
    english = client.get("/requests/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "1,234.50 EUR" in english
    assert "05/03/2026 14:07" in english  # British order, 24 h (config/formats/en)


def read_po(path: Path) -> list[dict]:
    """Entries of a .po file: msgid, msgid_plural, msgstr(s), flags (obsolete ones skipped)."""
    entries, current, key = [], None, None
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if current and "msgid" in current:
                entries.append(current)
            current, key = None, None
            continue
        current = current if current is not None else {"flags": set()}
        if line.startswith("#,"):
            current["flags"] |= {f.strip() for f in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif match := re.match(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) (\".*\")$", line):
            key = match.group(1)
            current[key] = ast.literal_eval(match.group(2))
        else:
            current[key] += ast.literal_eval(line)
    return [e for e in entries if e["msgid"]]  # the header has an empty msgid


def test_every_german_entry_is_translated_and_not_fuzzy():
    entries = read_po(PO)
    assert len(entries) > 100
    untranslated = [
        e["msgid"]
        for e in entries
        if "fuzzy" in e["flags"]
        or not (e.get("msgstr") or (e.get("msgstr[0]") and e.get("msgstr[1]")))
    ]
    assert untranslated == []


def test_compiled_catalog_matches_the_po_file():
    with MO.open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)
    stale = []
    for entry in read_po(PO):
        if "msgid_plural" in entry:
            got = catalog.ngettext(entry["msgid"], entry["msgid_plural"], 1)
            expected = entry["msgstr[0]"]
        else:
            got, expected = catalog.gettext(entry["msgid"]), entry["msgstr"]
        if got != expected:
            stale.append(entry["msgid"])
    assert stale == [], "run `make messages` (compilemessages) and commit the .mo"


@pytest.mark.skipif(
    shutil.which("xgettext") is None, reason="needs gettext (make test installs it)"
)
def test_catalog_has_every_marked_string(tmp_path):
    """Re-extract the strings from a copy of the code: nothing marked may be missing."""
    copy = tmp_path / "src"
    shutil.copytree(
        ROOT,
        copy,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "var", "staticfiles", "__pycache__", ".ruff_cache", "results"
        ),
    )
    env = clean_env(tmp_path, DJANGO_DEBUG="1")
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "de", "--ignore=staticfiles"],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    fresh = {e["msgid"] for e in read_po(copy / PO.relative_to(ROOT))}
    committed = {e["msgid"] for e in read_po(PO)}
    missing = sorted(fresh - committed)
    assert missing == [], "run `make messages`, translate the new entries, commit .po and .mo"
