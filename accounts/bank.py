"""Bank details: IBAN checksum (ISO 13616, mod 97), SEPA country lengths, and the IBAN
and BIC patterns of pain.001.001.03, read from the XSD that sepaxml validates the payout
file against (so whatever the file step would refuse, the bank form refuses first). Pure."""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from functools import cache

import sepaxml

SEPA_SCHEMA = "pain.001.001.03"

# Lengths of the SEPA countries' IBANs (the ones a SEPA credit transfer reaches).
IBAN_LENGTHS = {
    "AD": 24,
    "AT": 20,
    "BE": 16,
    "BG": 22,
    "CH": 21,
    "CY": 28,
    "CZ": 24,
    "DE": 22,
    "DK": 18,
    "EE": 20,
    "ES": 24,
    "FI": 18,
    "FR": 27,
    "GB": 22,
    "GI": 23,
    "GR": 27,
    "HR": 21,
    "HU": 28,
    "IE": 22,
    "IS": 26,
    "IT": 27,
    "LI": 21,
    "LT": 20,
    "LU": 20,
    "LV": 21,
    "MC": 27,
    "MT": 31,
    "NL": 18,
    "NO": 15,
    "PL": 28,
    "PT": 25,
    "RO": 24,
    "SE": 24,
    "SI": 19,
    "SK": 24,
    "SM": 27,
    "VA": 22,
}
_XS = "{http://www.w3.org/2001/XMLSchema}"


class Problem:
    """Why an IBAN or BIC is refused (codes; words in accounts/forms.py)."""

    IBAN_FORMAT = "iban_format"
    IBAN_COUNTRY = "iban_country"
    IBAN_LENGTH = "iban_length"
    IBAN_CHECKSUM = "iban_checksum"
    BIC_FORMAT = "bic_format"


def xsd_path(schema: str = SEPA_SCHEMA) -> str:
    return os.path.join(os.path.dirname(sepaxml.__file__), "schemas", f"{schema}.xsd")


@cache
def xsd_pattern(simple_type: str, schema: str = SEPA_SCHEMA) -> re.Pattern:
    """The `xs:pattern` of a simpleType of the schema, compiled for a whole-string match.

    XSD patterns are anchored by definition; the ones used here (character classes and
    counted repeats) mean the same in Python's `re`."""
    tree = ET.parse(xsd_path(schema))
    for node in tree.getroot().iter(f"{_XS}simpleType"):
        if node.get("name") == simple_type:
            pattern = node.find(f"{_XS}restriction/{_XS}pattern")
            if pattern is not None:
                return re.compile(pattern.get("value"))
    raise LookupError(f"{schema}.xsd has no pattern for {simple_type}")


def normalise(value: str) -> str:
    return re.sub(r"\s+", "", value or "").upper()


def iban_problem(value: str) -> str | None:
    """None for an IBAN a pain.001 transfer can credit, else a Problem code."""
    iban = normalise(value)
    if not xsd_pattern("IBAN2007Identifier").fullmatch(iban) or not iban.isalnum():
        return Problem.IBAN_FORMAT
    if iban[:2] not in IBAN_LENGTHS:
        return Problem.IBAN_COUNTRY
    if IBAN_LENGTHS[iban[:2]] != len(iban):
        return Problem.IBAN_LENGTH
    digits = "".join(str(int(ch, 36)) for ch in iban[4:] + iban[:4])
    if int(digits) % 97 != 1:
        return Problem.IBAN_CHECKSUM
    return None


def iban_valid(value: str) -> bool:
    return iban_problem(value) is None


def bic_problem(value: str) -> str | None:
    """None for a BIC the schema's BICIdentifier pattern takes (e.g. COBADEFFXXX),
    else Problem.BIC_FORMAT (COBADE00: the 7th character may not be 0 or 1)."""
    if not xsd_pattern("BICIdentifier").fullmatch(normalise(value)):
        return Problem.BIC_FORMAT
    return None


def bic_valid(value: str) -> bool:
    return bic_problem(value) is None


def mask(iban: str) -> str:
    """An IBAN as pages and mails show it: its country and last four only."""
    iban = normalise(iban)
    return f"{iban[:2]}… {iban[-4:]}" if len(iban) > 6 else "…"


def make_iban(country: str, bban: str) -> str:
    """The IBAN of a national account number (its check digits computed)."""
    digits = "".join(str(int(ch, 36)) for ch in (bban + country + "00").upper())
    return f"{country.upper()}{98 - int(digits) % 97:02d}{bban.upper()}"
