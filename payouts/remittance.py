"""The transfer's unstructured remittance text (pain.001 `RmtInf/Ustrd`): it names the
report, so the payee's bank statement says what was paid.

Banks in the SEPA scheme need only carry the Latin character set of the EPC's
guidelines (a-z A-Z 0-9 / - ? : ( ) . , ' + and space) and at most 140 characters;
anything else may be dropped or refused on the way. So the title is transliterated
(Müller → Mueller, é → e), what still falls outside the set becomes a space, spaces
are collapsed, and the text is cut at 140 on a word boundary where one is near.
"""

from __future__ import annotations

import re
import unicodedata

MAX_LENGTH = 140
ALLOWED = re.compile(r"[^A-Za-z0-9/\-?:().,'+ ]")
SPECIAL = str.maketrans(
    {
        "ä": "ae",
        "ö": "oe",
        "ü": "ue",
        "Ä": "Ae",
        "Ö": "Oe",
        "Ü": "Ue",
        "ß": "ss",
        "&": "+",
        "€": "EUR",
        "£": "GBP",
        "#": " ",
        "_": "-",
        "–": "-",
        "—": "-",
        "’": "'",
        "‘": "'",
    }
)


def sepa_text(text: str) -> str:
    """`text` in the SEPA character set, spaces collapsed (may be empty)."""
    text = text.translate(SPECIAL)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = ALLOWED.sub(" ", text)
    return " ".join(text.split())


def remittance(request_id: int, title: str) -> str:
    """ "Expense report 123 Trip to Berlin" within 140 SEPA characters."""
    head = f"Expense report {int(request_id)}"
    title = sepa_text(title)
    if not title:
        return head
    text = f"{head} {title}"
    if len(text) <= MAX_LENGTH:
        return text
    cut = text[:MAX_LENGTH]
    space = cut.rfind(" ")
    if space > len(head) + 20:  # cut on a word boundary unless it loses too much
        cut = cut[:space]
    return cut.rstrip(" -/,.:")
